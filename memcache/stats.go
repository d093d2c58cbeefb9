package memcache

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"imgcache/database"
	"imgcache/memcache/cache"
)

// pruneEvery spaces out deletes of old rows: retention is hours, so once a minute is plenty.
const pruneEvery = time.Minute

// statsWriter appends one cache_stats row per interval: the gauges at that moment and the counts of the
// interval. When the database is unreachable the counts keep accumulating and go into the first row
// written after it comes back, so no lookup is lost from the sums.
type statsWriter struct {
	cache     *cache.Cache
	db        statsStore
	node      func() int64 // the node's id in the pool's table, 0 until registered
	interval  time.Duration
	retention time.Duration
	log       *slog.Logger

	onError   func() // counts failed writes
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once

	// Owned by the loop goroutine, then by Close after the loop has exited.
	last      cache.Stats
	lastPrune time.Time
	failing   bool
}

// statsStore is the part of the database the writer needs.
type statsStore interface {
	InsertStats(ctx context.Context, r database.StatsRow) error
	PruneStats(ctx context.Context, before time.Time) (int64, error)
}

var _ statsStore = (*database.DB)(nil)

func startStatsWriter(c *cache.Cache, db statsStore, node func() int64, interval, retention time.Duration, log *slog.Logger, onError func()) *statsWriter {
	ctx, cancel := context.WithCancel(context.Background())
	w := &statsWriter{cache: c, db: db, node: node, interval: interval, retention: retention, log: log, onError: onError,
		cancel: cancel, done: make(chan struct{}), last: c.Stats()}
	go w.loop(ctx)
	return w
}

func (w *statsWriter) loop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.flush(ctx, now.UTC())
		}
	}
}

// flush writes the row for the interval that ends now and prunes when due.
func (w *statsWriter) flush(ctx context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, w.interval)
	defer cancel()
	st := w.cache.Stats()
	row := database.StatsRow{
		CacheSize:    st.Bytes,
		KeyCount:     int64(st.Items),
		RequestCount: int64(st.Gets - w.last.Gets),
		HitCount:     int64(st.Hits - w.last.Hits),
		MissCount:    int64(st.Misses - w.last.Misses),
		CreatedAt:    now,
		NodeID:       w.node(),
	}
	if err := w.db.InsertStats(ctx, row); err != nil {
		w.onError()
		if !w.failing {
			w.log.Error("cannot write cache statistics; counts are kept until the database is back", "err", err)
			w.failing = true
		}
		return
	}
	if w.failing {
		w.log.Info("cache statistics written again")
		w.failing = false
	}
	w.last = st
	if now.Sub(w.lastPrune) >= pruneEvery {
		n, err := w.db.PruneStats(ctx, now.Add(-w.retention))
		if err != nil {
			w.onError()
			w.log.Warn("cannot prune cache statistics", "err", err)
			return
		}
		w.lastPrune = now
		if n > 0 {
			w.log.Debug("pruned cache statistics", "rows", n)
		}
	}
}

// Close stops the loop and writes a last row, so a graceful shutdown loses no counts. Safe to call twice.
func (w *statsWriter) Close() {
	w.closeOnce.Do(func() {
		w.cancel()
		<-w.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w.flush(ctx, time.Now().UTC())
	})
}
