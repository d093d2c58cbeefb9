package memcache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"imgcache/database"
	"imgcache/memcache/cache"
)

// fakeStats records rows and fails while down is set.
type fakeStats struct {
	rows   []database.StatsRow
	prunes []time.Time
	down   bool
}

func (f *fakeStats) InsertStats(_ context.Context, r database.StatsRow) error {
	if f.down {
		return errors.New("connection refused")
	}
	f.rows = append(f.rows, r)
	return nil
}

func (f *fakeStats) PruneStats(_ context.Context, before time.Time) (int64, error) {
	if f.down {
		return 0, errors.New("connection refused")
	}
	f.prunes = append(f.prunes, before)
	return 0, nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestWriter builds a writer whose loop is not running, so the test drives flush itself.
func newTestWriter(c *cache.Cache, st statsStore) *statsWriter {
	return &statsWriter{cache: c, db: st, node: func() int64 { return 4 }, interval: time.Second, retention: time.Hour, log: quietLogger(), onError: func() {}, last: c.Stats()}
}

func TestStatsWriterIntervalCounts(t *testing.T) {
	c := cache.New(cache.Config{Capacity: cache.MB})
	store := &fakeStats{}
	w := newTestWriter(c, store)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	c.Put("a", []byte("AAAA"))
	c.Get("a") // hit
	c.Get("b") // miss
	c.Get("c") // miss
	w.flush(context.Background(), t0)

	c.Get("a") // hit
	w.flush(context.Background(), t0.Add(5*time.Second))

	store.down = true
	c.Get("x") // miss while the database is down
	w.flush(context.Background(), t0.Add(10*time.Second))
	store.down = false
	c.Get("a") // hit
	w.flush(context.Background(), t0.Add(15*time.Second))

	want := []database.StatsRow{
		{CacheSize: 5, KeyCount: 1, RequestCount: 3, HitCount: 1, MissCount: 2, CreatedAt: t0, NodeID: 4},
		{CacheSize: 5, KeyCount: 1, RequestCount: 1, HitCount: 1, MissCount: 0, CreatedAt: t0.Add(5 * time.Second), NodeID: 4},
		// The failed interval's miss is carried into the next row, not lost.
		{CacheSize: 5, KeyCount: 1, RequestCount: 2, HitCount: 1, MissCount: 1, CreatedAt: t0.Add(15 * time.Second), NodeID: 4},
	}
	if len(store.rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(store.rows), len(want), store.rows)
	}
	for i := range want {
		if store.rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, store.rows[i], want[i])
		}
	}
	// Pruning is due on the first write and then once a minute.
	if len(store.prunes) != 1 || !store.prunes[0].Equal(t0.Add(-time.Hour)) {
		t.Errorf("prunes = %v, want one at %v", store.prunes, t0.Add(-time.Hour))
	}
}

func TestStatsWriterCloseWritesLastRow(t *testing.T) {
	c := cache.New(cache.Config{Capacity: cache.MB})
	store := &fakeStats{}
	w := startStatsWriter(c, store, func() int64 { return 4 }, time.Hour, time.Hour, quietLogger(), func() {})
	c.Get("k")
	w.Close()
	w.Close() // twice is safe
	if len(store.rows) != 1 {
		t.Fatalf("got %d rows after Close, want 1", len(store.rows))
	}
	if got := store.rows[0]; got.RequestCount != 1 || got.MissCount != 1 {
		t.Errorf("last row = %+v, want 1 request, 1 miss", got)
	}
}

// notifyStats hands each inserted row to a channel, so a test can wait for the loop without sleeping.
type notifyStats struct{ rows chan database.StatsRow }

func (n notifyStats) InsertStats(_ context.Context, r database.StatsRow) error {
	n.rows <- r
	return nil
}

func (n notifyStats) PruneStats(context.Context, time.Time) (int64, error) { return 0, nil }

func TestStatsWriterTicks(t *testing.T) {
	c := cache.New(cache.Config{Capacity: cache.MB})
	store := notifyStats{rows: make(chan database.StatsRow)}
	w := startStatsWriter(c, store, func() int64 { return 4 }, 10*time.Millisecond, time.Hour, quietLogger(), func() {})
	c.Get("a")
	var got []database.StatsRow
	timeout := time.After(10 * time.Second)
	for len(got) < 3 {
		select {
		case r := <-store.rows:
			got = append(got, r)
		case <-timeout:
			t.Fatalf("only %d rows after 10 s at a 10 ms interval", len(got))
		}
	}
	go func() { // Close's final flush also inserts: drain it.
		for range store.rows {
		}
	}()
	w.Close()
	close(store.rows)
	var requests int64
	for i, r := range got {
		requests += r.RequestCount
		if i > 0 && !r.CreatedAt.After(got[i-1].CreatedAt) {
			t.Errorf("row %d at %v is not after row %d at %v", i, r.CreatedAt, i-1, got[i-1].CreatedAt)
		}
	}
	if requests != 1 {
		t.Errorf("requests over %d rows = %d, want 1 (each lookup counted once)", len(got), requests)
	}
}
