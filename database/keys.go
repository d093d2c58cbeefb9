package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MaxPageLimit bounds ImageQuery.Limit: a page is for a person to read.
const MaxPageLimit = 1000

// ImageQuery asks for one page of the images whose key starts with Prefix ("" for all), in natural
// order (SortKey, ties by the key's bytes): Limit rows after the first Offset.
type ImageQuery struct {
	Prefix        string
	Offset, Limit int
}

// ImagePage is one page of an ImageQuery, with the count and total size of every image it matches.
type ImagePage struct {
	Images     []Image
	Total      int
	TotalBytes int64
}

// FindImages returns a page of the images whose key starts with q.Prefix. The prefix is a range of
// the primary key and the order an index, so neither the filter nor the page scans the table.
func (db *DB) FindImages(ctx context.Context, q ImageQuery) (ImagePage, error) {
	if q.Offset < 0 || q.Limit < 1 || q.Limit > MaxPageLimit {
		return ImagePage{}, fmt.Errorf("find images: offset %d, limit %d: want offset >= 0 and limit in [1, %d]", q.Offset, q.Limit, MaxPageLimit)
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	where, args := db.prefixRange(q.Prefix)
	var page ImagePage
	err := db.db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM images"+where, args...).
		Scan(&page.Total, &page.TotalBytes)
	if err != nil {
		return ImagePage{}, fmt.Errorf("find images %q: count: %w", q.Prefix, err)
	}
	if q.Offset >= page.Total {
		return page, nil
	}
	rows, err := db.db.QueryContext(ctx, "SELECT "+imageColumns+" FROM images"+where+
		" ORDER BY sort_key, `key` LIMIT ? OFFSET ?", append(args, q.Limit, q.Offset)...)
	if err != nil {
		return ImagePage{}, fmt.Errorf("find images %q: %w", q.Prefix, err)
	}
	defer rows.Close()
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			return ImagePage{}, fmt.Errorf("find images %q: %w", q.Prefix, err)
		}
		page.Images = append(page.Images, img)
	}
	if err := rows.Err(); err != nil {
		return ImagePage{}, fmt.Errorf("find images %q: %w", q.Prefix, err)
	}
	return page, nil
}

// prefixRange is the WHERE clause of the keys that start with prefix: [prefix, prefix+"\xff"). Keys
// are valid UTF-8, which never holds the byte 0xff, so every key with the prefix sorts below the
// bound and every other key falls outside. MySQL gets the bounds as binary strings, since the upper
// one is not valid UTF-8; SQLite compares TEXT byte for byte and would put a BLOB above every text.
func (db *DB) prefixRange(prefix string) (string, []any) {
	if prefix == "" {
		return "", nil
	}
	lo, hi := prefix, prefix+"\xff"
	if db.dialect == MySQL {
		return " WHERE `key` >= ? AND `key` < ?", []any{[]byte(lo), []byte(hi)}
	}
	return " WHERE `key` >= ? AND `key` < ?", []any{lo, hi}
}

// DeleteImage deletes the row of key and returns the location it named, so the caller can remove the
// object, or an error wrapping ErrNotFound. The read and the delete are one transaction holding the
// row, so an upload of the same key racing with it learns the location either before (as its
// previous one) or not at all: each object is given to exactly one caller to remove.
func (db *DB) DeleteImage(ctx context.Context, key string) (location string, err error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	lock := ""
	if db.dialect == MySQL {
		lock = " FOR UPDATE"
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		location = ""
		err := tx.QueryRowContext(ctx, "SELECT location FROM images WHERE `key` = ?"+lock, key).Scan(&location)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM images WHERE `key` = ?", key)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("delete image %q: %w", key, err)
	}
	return location, nil
}
