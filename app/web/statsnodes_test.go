package web

import (
	"testing"
	"time"

	"imgcache/database"
)

// TestPoolPoints: the rows of a pool's nodes add up slot by slot, gauges from every node still
// writing, counts from the slot's rows; a node that stopped writing drops out of the gauges.
func TestPoolPoints(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	row := func(node int64, sec int, items, hits, misses int64) database.StatsRow {
		return database.StatsRow{NodeID: node, CreatedAt: t0.Add(time.Duration(sec) * time.Second), KeyCount: items,
			CacheSize: items * 100, HitCount: hits, MissCount: misses, RequestCount: hits + misses}
	}
	rows := []database.StatsRow{
		row(1, 1, 10, 5, 1), row(2, 3, 20, 2, 2), // slot 0-5 s
		row(1, 6, 11, 1, 0),                        // slot 5-10 s: node 2 wrote nothing, its gauge carries
		row(1, 11, 12, 0, 0), row(2, 12, 22, 4, 0), // slot 10-15 s
		row(1, 31, 13, 1, 1), // slot 30-35 s: node 2 silent for 19 s: gone
	}
	got := poolPoints(rows)
	want := []struct {
		sec                 int
		items, hits, misses int64
	}{{5, 30, 7, 3}, {10, 31, 1, 0}, {15, 34, 4, 0}, {35, 13, 1, 1}}
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if !g.At.Equal(t0.Add(time.Duration(w.sec)*time.Second)) || g.Items != w.items || g.Bytes != w.items*100 || g.Hits != w.hits || g.Misses != w.misses || g.Requests != w.hits+w.misses {
			t.Errorf("point %d = %+v, want at %ds items %d hits %d misses %d", i, g, w.sec, w.items, w.hits, w.misses)
		}
	}
	// One node's rows map one to one.
	single := poolPoints(nodeRows(rows, 1))
	if len(single) != 4 || single[0].At != rows[0].CreatedAt || single[3].Items != 13 {
		t.Errorf("one node's points = %+v", single)
	}
}
