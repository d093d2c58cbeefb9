package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// mysqlErrDupColumn is ER_DUP_FIELDNAME: another process added the column first.
const mysqlErrDupColumn = 1060

// addSortKey adds images.sort_key and its index to a table made before they existed, so that the
// schema's statements, which name the column, can run. A new database gets both from the schema.
func (db *DB) addSortKey(ctx context.Context) error {
	if db.dialect == MySQL {
		var tables, cols int
		err := db.db.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM information_schema.tables"+
			" WHERE table_schema = DATABASE() AND table_name = 'images'), (SELECT COUNT(*) FROM information_schema.columns"+
			" WHERE table_schema = DATABASE() AND table_name = 'images' AND column_name = 'sort_key')").Scan(&tables, &cols)
		if err != nil || tables == 0 || cols > 0 {
			return err
		}
		// ALTER TABLE commits by itself in MySQL, so it runs outside a transaction; two processes
		// starting at once may both try, and the second is told the column exists.
		_, err = db.db.ExecContext(ctx, "ALTER TABLE images ADD COLUMN sort_key VARBINARY(512) NOT NULL DEFAULT '',"+
			" ADD INDEX images_sort_key (sort_key, `key`)")
		var myErr *mysql.MySQLError
		if errors.As(err, &myErr) && myErr.Number == mysqlErrDupColumn {
			return nil
		}
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var tables, cols int
		err := tx.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'images'),"+
			" (SELECT COUNT(*) FROM pragma_table_info('images') WHERE name = 'sort_key')").Scan(&tables, &cols)
		if err != nil || tables == 0 || cols > 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, "ALTER TABLE images ADD COLUMN sort_key BLOB NOT NULL DEFAULT x''")
		return err
	})
}

// fillSortKeys sets the sort key of the rows that have none: those of a table made before the column
// existed, or written since by an older binary. Until then such rows list first on the keys page.
func (db *DB) fillSortKeys(ctx context.Context) error {
	rows, err := db.db.QueryContext(ctx, "SELECT `key` FROM images WHERE sort_key = x''")
	if err != nil {
		return err
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(keys) == 0 {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, "UPDATE images SET sort_key = ? WHERE `key` = ? AND sort_key = x''", SortKey(k), k); err != nil {
				return fmt.Errorf("sort key of %q: %w", k, err)
			}
		}
		return nil
	})
}

// addedColumns are the columns added to tables after they first shipped: a table made before has
// them added at start. Each is also in the schema files, last, so that new and old tables agree.
// The images columns after location are the ones the Flask original's table lacks.
var addedColumns = []struct{ table, column, sqliteDDL, mysqlDDL string }{
	{"cache_stats", "node_id", "INTEGER NOT NULL DEFAULT 0", "BIGINT NOT NULL DEFAULT 0"},
	{"images", "size", "INTEGER NOT NULL DEFAULT 0", "BIGINT NOT NULL DEFAULT 0"},
	{"images", "content_type", "TEXT NOT NULL DEFAULT ''", "VARCHAR(64) NOT NULL DEFAULT ''"},
	{"images", "updated_at", "TEXT NOT NULL DEFAULT '1970-01-01 00:00:00.000000'", "DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"},
}

// migrate adds the columns a table made by an older version, or by the Flask original, lacks, and
// takes the original's name of the policy column (replacement_policy) over.
func (db *DB) migrate(ctx context.Context, tx *sql.Tx) error {
	ours, err := columnExists(ctx, tx, db.dialect, "cache_properties", "replacement_method")
	if err != nil {
		return fmt.Errorf("migrate cache_properties: %w", err)
	}
	if !ours {
		// The original's column may hold NULL, which NOT NULL would refuse.
		if _, err := tx.ExecContext(ctx, "UPDATE cache_properties SET replacement_policy = '' WHERE replacement_policy IS NULL"); err != nil {
			return fmt.Errorf("migrate cache_properties.replacement_policy: %w", err)
		}
		ddl := "ALTER TABLE cache_properties CHANGE replacement_policy replacement_method VARCHAR(255) NOT NULL"
		if db.dialect == SQLite {
			ddl = "ALTER TABLE cache_properties RENAME COLUMN replacement_policy TO replacement_method"
		}
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("migrate cache_properties.replacement_policy: %w", err)
		}
	}
	for _, c := range addedColumns {
		q := "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?"
		ddl := c.sqliteDDL
		if db.dialect == MySQL {
			q = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?"
			ddl = c.mysqlDDL
		}
		var n int
		if err := tx.QueryRowContext(ctx, q, c.table, c.column).Scan(&n); err != nil {
			return fmt.Errorf("migrate %s.%s: %w", c.table, c.column, err)
		}
		if n > 0 {
			continue
		}
		_, err := tx.ExecContext(ctx, "ALTER TABLE "+c.table+" ADD COLUMN "+c.column+" "+ddl)
		var myErr *mysql.MySQLError
		if errors.As(err, &myErr) && myErr.Number == mysqlErrDupColumn {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("migrate %s.%s: %w", c.table, c.column, err)
		}
	}
	return nil
}
