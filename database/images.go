package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Column limits of the images table, in bytes. PutImage refuses longer
// values on both engines alike, rather than letting MySQL refuse them and
// SQLite keep them.
const (
	MaxKeyBytes         = 255
	MaxLocationBytes    = 255
	MaxContentTypeBytes = 64
)

// Image is one row of the images table.
type Image struct {
	// Key is the user's key, compared byte for byte.
	Key string
	// Location is the file's name relative to the image folder.
	Location    string
	Size        int64
	ContentType string
	UpdatedAt   time.Time
}

const (
	imageColumns  = "`key`, location, size, content_type, updated_at"
	getImageQuery = "SELECT " + imageColumns + " FROM images WHERE `key` = ?"
)

func scanImage(row interface{ Scan(...any) error }) (Image, error) {
	var img Image
	err := row.Scan(&img.Key, &img.Location, &img.Size, &img.ContentType, scanTime{&img.UpdatedAt})
	return img, err
}

// GetImage returns the row for key, or an error wrapping ErrNotFound.
func (db *DB) GetImage(ctx context.Context, key string) (Image, error) {
	ctx, cancel := db.boundRead(ctx)
	defer cancel()
	img, err := scanImage(db.getImage.QueryRowContext(ctx, key))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Image{}, fmt.Errorf("get image %q: %w", key, err)
	}
	return img, nil
}

// PutImage inserts or replaces the row for img.Key and returns the location
// it replaced ("" when the key is new), so the caller can delete that file.
// UpdatedAt zero means now. The read and the write are one transaction
// holding the row's lock, so concurrent uploads of one key each learn the
// previous location exactly once: no file is deleted twice or leaked.
func (db *DB) PutImage(ctx context.Context, img Image) (previous string, err error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := checkImage(img); err != nil {
		return "", fmt.Errorf("put image %q: %w", img.Key, err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		previous, err = db.putRow(ctx, tx, img)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("put image %q: %w", img.Key, err)
	}
	return previous, nil
}

// putRow inserts or replaces img's row inside tx and returns the location it replaced.
func (db *DB) putRow(ctx context.Context, tx *sql.Tx, img Image) (previous string, err error) {
	// The sort key is set on update too: a row an older binary wrote may lack it.
	args := []any{img.Location, img.Size, img.ContentType, db.timeArg(nowOr(img.UpdatedAt)), SortKey(img.Key), img.Key}
	const update = "UPDATE images SET location = ?, size = ?, content_type = ?, updated_at = ?, sort_key = ? WHERE `key` = ?"
	const insert = "INSERT INTO images (location, size, content_type, updated_at, sort_key, `key`) VALUES (?, ?, ?, ?, ?, ?)"
	if db.dialect == MySQL {
		// Insert first, or lock the existing row without changing it.
		// Starting with SELECT ... FOR UPDATE instead would take gap
		// locks on a missing key, and two uploads of new keys in the
		// same gap would deadlock on their inserts.
		res, err := tx.ExecContext(ctx, insert+" ON DUPLICATE KEY UPDATE location = location", args...)
		if err != nil {
			return "", err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return "", err // 1: inserted; 0: the row exists and is now locked by us
		}
	}
	lock := ""
	if db.dialect == MySQL {
		lock = " FOR UPDATE"
	}
	err = tx.QueryRowContext(ctx, "SELECT location FROM images WHERE `key` = ?"+lock, img.Key).Scan(&previous)
	switch {
	case errors.Is(err, sql.ErrNoRows): // SQLite only: BEGIN IMMEDIATE holds the write lock
		_, err = tx.ExecContext(ctx, insert, args...)
		return "", err
	case err != nil:
		return "", err
	}
	_, err = tx.ExecContext(ctx, update, args...)
	return previous, err
}

func checkImage(img Image) error {
	switch {
	case img.Key == "":
		return errors.New("empty key")
	case len(img.Key) > MaxKeyBytes:
		return fmt.Errorf("key is %d bytes, over %d", len(img.Key), MaxKeyBytes)
	case img.Location == "":
		return errors.New("empty location")
	case len(img.Location) > MaxLocationBytes:
		return fmt.Errorf("location is %d bytes, over %d", len(img.Location), MaxLocationBytes)
	case len(img.ContentType) > MaxContentTypeBytes:
		return fmt.Errorf("content type is %d bytes, over %d", len(img.ContentType), MaxContentTypeBytes)
	}
	return nil
}

// ListImages returns every row, ordered by key (byte order).
func (db *DB) ListImages(ctx context.Context) ([]Image, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.db.QueryContext(ctx, "SELECT "+imageColumns+" FROM images ORDER BY `key`")
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	defer rows.Close()
	var imgs []Image
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			return nil, fmt.Errorf("list images: %w", err)
		}
		imgs = append(imgs, img)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	return imgs, nil
}

// CountImages returns the number of rows.
func (db *DB) CountImages(ctx context.Context) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var n int
	if err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM images").Scan(&n); err != nil {
		return 0, fmt.Errorf("count images: %w", err)
	}
	return n, nil
}

// DeleteAllImages deletes every row in one transaction and returns the
// locations it deleted, ordered by key, so the caller can delete the files.
func (db *DB) DeleteAllImages(ctx context.Context) (locations []string, err error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	lock := ""
	if db.dialect == MySQL {
		lock = " FOR UPDATE" // no upload may slip in between the read and the delete
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		locations = nil
		rows, err := tx.QueryContext(ctx, "SELECT location FROM images ORDER BY `key`"+lock)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var loc string
			if err := rows.Scan(&loc); err != nil {
				return err
			}
			locations = append(locations, loc)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		_, err = tx.ExecContext(ctx, "DELETE FROM images")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete all images: %w", err)
	}
	return locations, nil
}

// MaxNamedBatch bounds the locations one NamedLocations call takes, to keep its statement small.
const MaxNamedBatch = 500

// NamedLocations returns the subset of locations that some row names.
func (db *DB) NamedLocations(ctx context.Context, locations []string) (map[string]bool, error) {
	if len(locations) > MaxNamedBatch {
		return nil, fmt.Errorf("named locations: %d locations, at most %d at a time", len(locations), MaxNamedBatch)
	}
	named := map[string]bool{}
	if len(locations) == 0 {
		return named, nil
	}
	ctx, cancel := db.bound(ctx)
	defer cancel()
	args := make([]any, len(locations))
	for i, l := range locations {
		args[i] = l
	}
	q := "SELECT location FROM images WHERE location IN (?" + strings.Repeat(", ?", len(locations)-1) + ")"
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("named locations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, fmt.Errorf("named locations: %w", err)
		}
		named[l] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("named locations: %w", err)
	}
	return named, nil
}
