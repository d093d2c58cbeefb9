package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The Flask original's tables, as its memcache.sql makes them: images(key VARCHAR(255) PRIMARY KEY,
// location VARCHAR(255)) in a case-insensitive collation, where location names a file of its image
// folder; cache_properties with replacement_policy (or replacement_method, as an earlier version and
// the design say); cache_stats without node_id. Open adds the columns imgcache needs; what follows
// reads such a database as it is, and finishes taking it over.

// SkippedTable holds the rows an in-place import took out of images, with why: nothing of the
// original's is deleted, and the backend never serves a row without its image.
const SkippedTable = "original_skipped"

// OriginalImage is a row of the original's images table.
type OriginalImage struct {
	Key      string
	Location string // "" when NULL
}

// Original is an original deployment's database opened as it is: no table is created or changed.
type Original struct {
	db      *sql.DB
	dialect Dialect
}

// OpenOriginal opens dsn (the forms of Open) for reading an original deployment.
func OpenOriginal(ctx context.Context, dsn string) (*Original, error) {
	scheme, rest, _ := strings.Cut(dsn, ":")
	switch Dialect(scheme) {
	case MySQL:
		cfg, err := mysql.ParseDSN(rest)
		if err != nil {
			return nil, fmt.Errorf("database: open original: %w: %w", ErrBadDSN, err)
		}
		cfg.ParseTime, cfg.Loc = true, time.UTC
		if cfg.Timeout == 0 {
			cfg.Timeout = DefaultTimeout
		}
		sdb, err := openMySQLPool(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("database: open original %s: %w", describeMySQL(cfg), err)
		}
		return &Original{db: sdb, dialect: MySQL}, nil
	case SQLite:
		path, _, _ := strings.Cut(rest, "?")
		sdb, err := sql.Open("sqlite", path+"?mode=ro&_pragma=busy_timeout(5000)")
		if err == nil {
			err = sdb.PingContext(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("database: open original %s: %w", path, err)
		}
		return &Original{db: sdb, dialect: SQLite}, nil
	}
	return nil, fmt.Errorf("database: open original: %w: it must start with \"sqlite:\" or \"mysql:\"", ErrBadDSN)
}

// Close closes the pool.
func (o *Original) Close() error { return o.db.Close() }

// Images returns every row of the original's images table, in key order.
func (o *Original) Images(ctx context.Context) ([]OriginalImage, error) {
	return originalImages(ctx, o.db, "read the original's images", "SELECT `key`, location FROM images ORDER BY `key`")
}

// originalImages runs query, which selects a key and a location (NULL in the original's schema
// allows), and returns its rows; what names the read in errors.
func originalImages(ctx context.Context, db *sql.DB, what, query string) ([]OriginalImage, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []OriginalImage
	for rows.Next() {
		var img OriginalImage
		var loc sql.NullString
		if err := rows.Scan(&img.Key, &loc); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		img.Location = loc.String
		out = append(out, img)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// LatestProperties returns the original's newest cache_properties row (its policy from
// replacement_policy or replacement_method, whichever the table has), or ErrNotFound.
func (o *Original) LatestProperties(ctx context.Context) (CacheProperties, error) {
	col, err := policyColumn(ctx, o.db, o.dialect)
	if err != nil {
		return CacheProperties{}, err
	}
	var p CacheProperties
	err = o.db.QueryRowContext(ctx, "SELECT id, max_capacity, "+col+", created_at FROM cache_properties ORDER BY id DESC LIMIT 1").
		Scan(&p.ID, &p.MaxCapacityMB, &p.Policy, scanTime{&p.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return CacheProperties{}, ErrNotFound
	}
	if err != nil {
		return CacheProperties{}, fmt.Errorf("read the original's cache properties: %w", err)
	}
	return p, nil
}

// columnExists reports whether table has column.
func columnExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, d Dialect, table, column string) (bool, error) {
	query := "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?"
	if d == MySQL {
		query = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?"
	}
	var n int
	err := q.QueryRowContext(ctx, query, table, column).Scan(&n)
	return n > 0, err
}

// policyColumn is the name of cache_properties' policy column: replacement_method (ours, and the
// original's earlier version), else replacement_policy (its committed memcache.sql).
func policyColumn(ctx context.Context, sdb *sql.DB, d Dialect) (string, error) {
	ok, err := columnExists(ctx, sdb, d, "cache_properties", "replacement_method")
	if err != nil || ok {
		return "replacement_method", err
	}
	if ok, err = columnExists(ctx, sdb, d, "cache_properties", "replacement_policy"); err != nil || ok {
		return "replacement_policy", err
	}
	return "", errors.New("cache_properties has neither replacement_method nor replacement_policy")
}

// UpgradeOriginal prepares an original's MySQL database, in place, for Open: rows whose key is over
// MaxKeyBytes move to SkippedTable (the byte-exact key column cannot hold them), then the key column
// becomes byte-exact (VARBINARY(255)) like ours. It returns the rows it moved. Each step is done once:
// running it again finds nothing to do. SQLite has no original form and is left as it is.
func UpgradeOriginal(ctx context.Context, dsn string) ([]OriginalImage, error) {
	scheme, _, _ := strings.Cut(dsn, ":")
	if Dialect(scheme) != MySQL {
		return nil, nil
	}
	o, err := OpenOriginal(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	var tables int
	if err := o.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'images'").Scan(&tables); err != nil || tables == 0 {
		return nil, err
	}
	if err := createSkipped(ctx, o.db, MySQL); err != nil {
		return nil, err
	}
	var moved []OriginalImage
	rows, err := o.db.QueryContext(ctx, "SELECT `key`, location FROM images WHERE LENGTH(`key`) > ?", MaxKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("find over-long keys: %w", err)
	}
	for rows.Next() {
		var img OriginalImage
		var loc sql.NullString
		if err := rows.Scan(&img.Key, &loc); err != nil {
			rows.Close()
			return nil, err
		}
		img.Location = loc.String
		moved = append(moved, img)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, img := range moved {
		reason := fmt.Sprintf("the key is %d bytes; keys are at most %d", len(img.Key), MaxKeyBytes)
		if err := skipRow(ctx, o.db, MySQL, img, reason, false); err != nil {
			return nil, err
		}
	}
	var dataType string
	err = o.db.QueryRowContext(ctx, "SELECT data_type FROM information_schema.columns WHERE table_schema = DATABASE()"+
		" AND table_name = 'images' AND column_name = 'key'").Scan(&dataType)
	if err != nil {
		return nil, fmt.Errorf("the key column's type: %w", err)
	}
	if dataType != "varbinary" {
		// Keys that were equal case-insensitively cannot both exist in the original, so none collide.
		if _, err := o.db.ExecContext(ctx, "ALTER TABLE images MODIFY `key` VARBINARY(255) NOT NULL"); err != nil {
			return nil, fmt.Errorf("make the key column byte-exact: %w", err)
		}
	}
	return moved, nil
}

func createSkipped(ctx context.Context, sdb interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, d Dialect) error {
	ddl := "CREATE TABLE IF NOT EXISTS " + SkippedTable + " (id BIGINT NOT NULL AUTO_INCREMENT, `key` VARBINARY(1024) NOT NULL," +
		" location VARCHAR(255) NOT NULL DEFAULT '', reason VARCHAR(255) NOT NULL, skipped_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)," +
		" PRIMARY KEY (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
	if d == SQLite {
		ddl = "CREATE TABLE IF NOT EXISTS " + SkippedTable + " (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, `key` BLOB NOT NULL," +
			" location TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL, skipped_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')))"
	}
	if _, err := sdb.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create %s: %w", SkippedTable, err)
	}
	return nil
}

// skipRow moves one images row to SkippedTable in one transaction; pending limits it to a row not
// imported yet (content_type still empty).
func skipRow(ctx context.Context, sdb *sql.DB, d Dialect, img OriginalImage, reason string, pending bool) error {
	tx, err := sdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	del := "DELETE FROM images WHERE `key` = ?"
	if pending {
		del += " AND content_type = ''"
	}
	res, err := tx.ExecContext(ctx, del, img.Key)
	if err != nil {
		return fmt.Errorf("skip %q: %w", img.Key, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // gone, or imported since: nothing to move
	}
	if len(reason) > 255 {
		reason = reason[:255]
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+SkippedTable+" (`key`, location, reason) VALUES (?, ?, ?)", []byte(img.Key), img.Location, reason); err != nil {
		return fmt.Errorf("skip %q: %w", img.Key, err)
	}
	return tx.Commit()
}

// PendingImports returns the rows an in-place import has still to bring in: those without a content
// type, which every upload records. Location is the original's file name.
func (db *DB) PendingImports(ctx context.Context) ([]OriginalImage, error) {
	return originalImages(ctx, db.db, "pending imports", "SELECT `key`, location FROM images WHERE content_type = '' ORDER BY `key`")
}

// CompleteImport points a pending row at its imported object. It reports false, changing nothing,
// when the row is no longer pending under that location (imported, replaced or deleted since).
func (db *DB) CompleteImport(ctx context.Context, original OriginalImage, img Image) (bool, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := checkImage(img); err != nil {
		return false, fmt.Errorf("import %q: %w", img.Key, err)
	}
	res, err := db.exec(ctx, "UPDATE images SET location = ?, size = ?, content_type = ?, updated_at = ?, sort_key = ?"+
		" WHERE `key` = ? AND location = ? AND content_type = ''",
		img.Location, img.Size, img.ContentType, db.timeArg(nowOr(img.UpdatedAt)), SortKey(img.Key), original.Key, original.Location)
	if err != nil {
		return false, fmt.Errorf("import %q: %w", img.Key, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SkipImport moves a pending row to SkippedTable with reason.
func (db *DB) SkipImport(ctx context.Context, img OriginalImage, reason string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	unlock, err := db.lockWrite(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := createSkipped(ctx, db.db, db.dialect); err != nil {
		return err
	}
	return skipRow(ctx, db.db, db.dialect, img, reason, true)
}

// SkippedImports counts the rows of SkippedTable (0 when there is none).
func (db *DB) SkippedImports(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+SkippedTable).Scan(&n)
	if err != nil {
		if ok, _ := tableExists(ctx, db.db, db.dialect, SkippedTable); !ok {
			return 0, nil
		}
	}
	return n, err
}

func tableExists(ctx context.Context, sdb *sql.DB, d Dialect, table string) (bool, error) {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if d == MySQL {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
	}
	var n int
	err := sdb.QueryRowContext(ctx, q, table).Scan(&n)
	return n > 0, err
}

// InsertImage inserts img when its key is new and reports whether it did: an existing row is never
// overwritten.
func (db *DB) InsertImage(ctx context.Context, img Image) (bool, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := checkImage(img); err != nil {
		return false, fmt.Errorf("insert image %q: %w", img.Key, err)
	}
	ignore := "INSERT OR IGNORE"
	if db.dialect == MySQL {
		ignore = "INSERT IGNORE"
	}
	res, err := db.exec(ctx, ignore+" INTO images (location, size, content_type, updated_at, sort_key, `key`) VALUES (?, ?, ?, ?, ?, ?)",
		img.Location, img.Size, img.ContentType, db.timeArg(nowOr(img.UpdatedAt)), SortKey(img.Key), img.Key)
	if err != nil {
		return false, fmt.Errorf("insert image %q: %w", img.Key, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
