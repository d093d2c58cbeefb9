package memcache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"imgcache/database"
)

// lazyDB opens the database on first use and again after a failed open, so the cache serves while the
// database is unreachable at start-up and picks it up when it comes back.
type lazyDB struct {
	dsn     string
	timeout time.Duration // of each call, once open

	mu     sync.Mutex
	db     *database.DB
	closed bool
}

var _ statsStore = (*lazyDB)(nil)

// get returns the open database, opening it if needed.
func (l *lazyDB) get(ctx context.Context) (*database.DB, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("database: closed")
	}
	if l.db == nil {
		db, err := database.Open(ctx, l.dsn)
		if err != nil {
			return nil, err
		}
		db.SetTimeout(l.timeout)
		l.db = db
	}
	return l.db, nil
}

// Ping checks that the database answers, opening it if needed.
func (l *lazyDB) Ping(ctx context.Context) error {
	db, err := l.get(ctx)
	if err != nil {
		return err
	}
	return db.Ping(ctx)
}

func (l *lazyDB) LatestCacheProperties(ctx context.Context) (database.CacheProperties, error) {
	db, err := l.get(ctx)
	if err != nil {
		return database.CacheProperties{}, err
	}
	return db.LatestCacheProperties(ctx)
}

func (l *lazyDB) InsertStats(ctx context.Context, r database.StatsRow) error {
	db, err := l.get(ctx)
	if err != nil {
		return err
	}
	return db.InsertStats(ctx, r)
}

func (l *lazyDB) PruneStats(ctx context.Context, before time.Time) (int64, error) {
	db, err := l.get(ctx)
	if err != nil {
		return 0, err
	}
	return db.PruneStats(ctx, before)
}

// Close closes the database if it was opened; later uses fail. Safe to call twice.
func (l *lazyDB) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.db == nil {
		return nil
	}
	err := l.db.Close()
	l.db = nil
	return err
}

func (l *lazyDB) RegisterNode(ctx context.Context, address string, capacityMB int, state string) (database.Node, error) {
	db, err := l.get(ctx)
	if err != nil {
		return database.Node{}, err
	}
	return db.RegisterNode(ctx, address, capacityMB, state)
}

func (l *lazyDB) Heartbeat(ctx context.Context, id int64, capacityMB int) error {
	db, err := l.get(ctx)
	if err != nil {
		return err
	}
	return db.Heartbeat(ctx, id, capacityMB)
}

func (l *lazyDB) LeaveNode(ctx context.Context, id int64) error {
	db, err := l.get(ctx)
	if err != nil {
		return err
	}
	return db.LeaveNode(ctx, id)
}
