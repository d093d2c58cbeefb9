package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// MaxLookupBatch is the most keys one GetImages call takes.
const MaxLookupBatch = 256

// lookupSizes are the IN-list lengths GetImages prepares, powers of two up to MaxLookupBatch: a batch
// is padded up to the next one by repeating a key, so a handful of statements serve every size and
// none is parsed per call.
const lookupSizes = 9 // 1, 2, 4, ..., 256

// lookupQuery is the row lookup of n keys.
func lookupQuery(n int) string {
	return "SELECT " + imageColumns + " FROM images WHERE `key` IN (?" + strings.Repeat(", ?", n-1) + ")"
}

// prepareLookups prepares the statement of each IN-list length.
func (db *DB) prepareLookups(ctx context.Context) error {
	for i := range db.lookups {
		stmt, err := db.db.PrepareContext(ctx, lookupQuery(1<<i))
		if err != nil {
			return fmt.Errorf("prepare the lookup of %d keys: %w", 1<<i, err)
		}
		db.lookups[i] = stmt
	}
	return nil
}

// GetImages returns the rows of those keys that have one, in no particular order, in one query. A key
// may be given more than once. Like GetImage it reads committed rows only, as of the query's start.
func (db *DB) GetImages(ctx context.Context, keys []string) ([]Image, error) {
	switch {
	case len(keys) == 0:
		return nil, nil
	case len(keys) > MaxLookupBatch:
		return nil, fmt.Errorf("get images: %d keys, at most %d at a time", len(keys), MaxLookupBatch)
	}
	ctx, cancel := db.boundRead(ctx)
	defer cancel()
	size := 0 // index of the smallest power of two >= len(keys)
	if len(keys) > 1 {
		size = bits.Len(uint(len(keys) - 1))
	}
	args := make([]any, 1<<size)
	for i := range args {
		args[i] = keys[min(i, len(keys)-1)]
	}
	rows, err := db.lookups[size].QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("get images: %w", err)
	}
	defer rows.Close()
	imgs := make([]Image, 0, len(keys))
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			return nil, fmt.Errorf("get images: %w", err)
		}
		imgs = append(imgs, img)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get images: %w", err)
	}
	return imgs, nil
}

// PutResult is what PutImages says of one row: the location it replaced ("" for a new key), or why it
// was not written.
type PutResult struct {
	Previous string
	Err      error
}

// PutImages writes rows as PutImage does, all in one transaction and so with one commit (one log
// sync), and says what became of each, in the order given. A row's own error (a bad value, a statement
// the database refuses) fails only that row: the transaction is run again without it. An error of the
// whole transaction fails every row still in it, each as PutImage would have failed alone; a failed
// COMMIT wraps ErrCommitUnknown. Rows of one key are written in the order given, so the later one
// replaces the earlier and reports it as its previous location.
func (db *DB) PutImages(ctx context.Context, imgs []Image) []PutResult {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res := make([]PutResult, len(imgs))
	var live []int
	for i, img := range imgs {
		if err := checkImage(img); err != nil {
			res[i].Err = fmt.Errorf("put image %q: %w", img.Key, err)
			continue
		}
		live = append(live, i)
	}
	// In key order, so that two groups on other backends lock the rows they share in one order
	// instead of deadlocking; stable, so that rows of one key keep theirs.
	slices.SortStableFunc(live, func(a, b int) int { return strings.Compare(imgs[a].Key, imgs[b].Key) })
	if db.dialect == MySQL && len(live) > 1 {
		// A few statements for the whole group instead of one or two round trips a row. Should one of
		// them fail, the rows are written one by one below, which tells whose error it was.
		err := db.inTx(ctx, func(tx *sql.Tx) error { return db.putRowsMySQL(ctx, tx, imgs, live, res) })
		if err == nil {
			return res
		}
		if errors.Is(err, ErrCommitUnknown) || ctx.Err() != nil {
			for _, i := range live {
				res[i] = PutResult{Err: fmt.Errorf("put image %q: %w", imgs[i].Key, err)}
			}
			return res
		}
	}
	for len(live) > 0 {
		failed := -1
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			failed = -1
			for _, i := range live {
				prev, err := db.putRow(ctx, tx, imgs[i])
				if err != nil {
					failed = i
					return err
				}
				res[i].Previous = prev
			}
			return nil
		})
		if err == nil {
			return res
		}
		if failed >= 0 && ctx.Err() == nil && !errors.Is(err, ErrCommitUnknown) {
			res[failed] = PutResult{Err: fmt.Errorf("put image %q: %w", imgs[failed].Key, err)}
			live = slices.DeleteFunc(live, func(i int) bool { return i == failed })
			continue
		}
		for _, i := range live {
			res[i] = PutResult{Err: fmt.Errorf("put image %q: %w", imgs[i].Key, err)}
		}
		return res
	}
	return res
}

// FlushLogAtTrxCommit returns the MySQL server's innodb_flush_log_at_trx_commit: only 1 writes and
// syncs the log at every commit, so that a committed row survives a power cut. It returns "" on SQLite,
// which Open sets to sync at every commit itself.
func (db *DB) FlushLogAtTrxCommit(ctx context.Context) (string, error) {
	if db.dialect != MySQL {
		return "", nil
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var v string
	if err := db.db.QueryRowContext(ctx, "SELECT @@innodb_flush_log_at_trx_commit").Scan(&v); err != nil {
		return "", fmt.Errorf("read innodb_flush_log_at_trx_commit: %w", err)
	}
	return v, nil
}

// putRowsMySQL writes the rows imgs[live] (in key order) in three statements: insert them all, leaving
// existing rows unchanged but locked (as putRow does, which takes no gap lock); read the locked rows'
// locations; update those that existed. A row whose location is the one being written was inserted
// here: object names are never reused. Of several rows of one key only the last is written, and each
// of the others is the previous location of the next, as if they had been written one after another.
func (db *DB) putRowsMySQL(ctx context.Context, tx *sql.Tx, imgs []Image, live []int, res []PutResult) error {
	last := make(map[string]int, len(live)) // key -> the index of its last row
	var rows []int                          // the rows written, one a key, in key order
	for _, i := range live {
		if _, ok := last[imgs[i].Key]; !ok {
			rows = append(rows, i)
		}
		last[imgs[i].Key] = i
	}
	for n, i := range rows {
		rows[n] = last[imgs[i].Key]
	}
	const cols = "INSERT INTO images (location, size, content_type, updated_at, sort_key, `key`) VALUES "
	values := func(idx []int) (string, []any) {
		args := make([]any, 0, 6*len(idx))
		for _, i := range idx {
			img := imgs[i]
			args = append(args, img.Location, img.Size, img.ContentType, db.timeArg(nowOr(img.UpdatedAt)), SortKey(img.Key), img.Key)
		}
		return strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(idx)), ", "), args
	}
	v, args := values(rows)
	if _, err := tx.ExecContext(ctx, cols+v+" ON DUPLICATE KEY UPDATE location = location", args...); err != nil {
		return err
	}
	keys := make([]any, len(rows))
	for n, i := range rows {
		keys[n] = imgs[i].Key
	}
	q := "SELECT `key`, location FROM images WHERE `key` IN (?" + strings.Repeat(", ?", len(keys)-1) + ") FOR UPDATE"
	found, err := tx.QueryContext(ctx, q, keys...)
	if err != nil {
		return err
	}
	stored := make(map[string]string, len(rows))
	for found.Next() {
		var k, loc string
		if err := found.Scan(&k, &loc); err != nil {
			found.Close()
			return err
		}
		stored[k] = loc
	}
	found.Close()
	if err := found.Err(); err != nil {
		return err
	}
	var update []int
	for _, i := range rows {
		loc, ok := stored[imgs[i].Key]
		if !ok {
			return fmt.Errorf("row %q missing after its insert", imgs[i].Key)
		}
		if loc != imgs[i].Location {
			update = append(update, i)
		}
	}
	if len(update) > 0 {
		v, args := values(update)
		if _, err := tx.ExecContext(ctx, cols+v+" ON DUPLICATE KEY UPDATE location = VALUES(location), size = VALUES(size), "+
			"content_type = VALUES(content_type), updated_at = VALUES(updated_at), sort_key = VALUES(sort_key)", args...); err != nil {
			return err
		}
	}
	// The previous location of each row: the stored one for the first of its key, unless that is the
	// last row's own (inserted here), then the row before it.
	for n, i := range live {
		k := imgs[i].Key
		switch {
		case n > 0 && imgs[live[n-1]].Key == k:
			res[i].Previous = imgs[live[n-1]].Location
		case stored[k] == imgs[last[k]].Location:
			res[i].Previous = ""
		default:
			res[i].Previous = stored[k]
		}
	}
	return nil
}
