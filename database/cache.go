package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CacheProperties is one row of cache_properties; the newest row is the
// memcache configuration in force.
type CacheProperties struct {
	ID            int64
	MaxCapacityMB int
	// Policy holds the stored text, e.g. "Least Recently Used" or
	// "Random Replacement"; validation is the caller's job.
	Policy    string
	CreatedAt time.Time
}

// LatestCacheProperties returns the most recently inserted row, or an error
// wrapping ErrNotFound when there is none.
func (db *DB) LatestCacheProperties(ctx context.Context) (CacheProperties, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var p CacheProperties
	err := db.db.QueryRowContext(ctx,
		"SELECT id, max_capacity, replacement_method, created_at FROM cache_properties ORDER BY id DESC LIMIT 1",
	).Scan(&p.ID, &p.MaxCapacityMB, &p.Policy, scanTime{&p.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return CacheProperties{}, fmt.Errorf("latest cache properties: %w", err)
	}
	return p, nil
}

// InsertCacheProperties appends p (its ID is ignored) and returns it as
// stored: with its new ID, and CreatedAt in UTC to the microsecond, now
// when p's is zero.
func (db *DB) InsertCacheProperties(ctx context.Context, p CacheProperties) (CacheProperties, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	p.CreatedAt = nowOr(p.CreatedAt)
	res, err := db.exec(ctx,
		"INSERT INTO cache_properties (max_capacity, replacement_method, created_at) VALUES (?, ?, ?)",
		p.MaxCapacityMB, p.Policy, db.timeArg(p.CreatedAt))
	if err == nil {
		p.ID, err = res.LastInsertId()
	}
	if err != nil {
		return CacheProperties{}, fmt.Errorf("insert cache properties: %w", err)
	}
	return p, nil
}

// StatsRow is one row of cache_stats: the two gauges (CacheSize in bytes,
// KeyCount) at CreatedAt, and the counts of the interval that ended then, of
// memcache node NodeID (0 for a node that is not in a pool's table).
type StatsRow struct {
	ID                                int64
	CacheSize                         int64
	KeyCount                          int64
	RequestCount, HitCount, MissCount int64
	CreatedAt                         time.Time
	NodeID                            int64
}

// InsertStats appends r (its ID is ignored); CreatedAt zero means now.
func (db *DB) InsertStats(ctx context.Context, r StatsRow) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.exec(ctx,
		"INSERT INTO cache_stats (cache_size, key_count, request_count, hit_count, miss_count, created_at, node_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
		r.CacheSize, r.KeyCount, r.RequestCount, r.HitCount, r.MissCount, db.timeArg(nowOr(r.CreatedAt)), r.NodeID)
	if err != nil {
		return fmt.Errorf("insert stats: %w", err)
	}
	return nil
}

// StatsSince returns the rows of every node created at or after since, oldest first.
func (db *DB) StatsSince(ctx context.Context, since time.Time) ([]StatsRow, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.db.QueryContext(ctx,
		"SELECT id, cache_size, key_count, request_count, hit_count, miss_count, created_at, node_id FROM cache_stats"+
			" WHERE created_at >= ? ORDER BY created_at, id",
		db.timeArg(since))
	if err != nil {
		return nil, fmt.Errorf("stats since %s: %w", since.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []StatsRow
	for rows.Next() {
		var r StatsRow
		if err := rows.Scan(&r.ID, &r.CacheSize, &r.KeyCount, &r.RequestCount, &r.HitCount, &r.MissCount, scanTime{&r.CreatedAt}, &r.NodeID); err != nil {
			return nil, fmt.Errorf("stats since %s: %w", since.Format(time.RFC3339), err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats since %s: %w", since.Format(time.RFC3339), err)
	}
	return out, nil
}

// PruneStats deletes the rows created before before and returns how many.
func (db *DB) PruneStats(ctx context.Context, before time.Time) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.exec(ctx, "DELETE FROM cache_stats WHERE created_at < ?", db.timeArg(before))
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return 0, fmt.Errorf("prune stats before %s: %w", before.Format(time.RFC3339), err)
	}
	return n, nil
}
