package database_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"imgcache/database"
	"imgcache/database/dbtest"
)

func TestNodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		a, err := db.RegisterNode(ctx, "http://10.0.0.1:5001", 10, database.NodeActive)
		if err != nil {
			t.Fatal(err)
		}
		b, err := db.RegisterNode(ctx, "http://10.0.0.2:5001", 20, database.NodeStandby)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == b.ID || a.State != database.NodeActive || b.State != database.NodeStandby || b.CapacityMB != 20 {
			t.Fatalf("registered %+v and %+v", a, b)
		}
		if err := db.SetNodeState(ctx, a.ID, database.NodeStandby); err != nil {
			t.Fatal(err)
		}
		// A restart keeps the node's id and the state chosen for it.
		again, err := db.RegisterNode(ctx, "http://10.0.0.1:5001", 30, database.NodeActive)
		if err != nil || again.ID != a.ID || again.State != database.NodeStandby || again.CapacityMB != 30 {
			t.Errorf("re-register = %+v, %v; want id %d, standby, 30 MB", again, err, a.ID)
		}
		if err := db.Heartbeat(ctx, b.ID, 25); err != nil {
			t.Fatal(err)
		}
		if err := db.LeaveNode(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		nodes, err := db.Nodes(ctx)
		if err != nil || len(nodes) != 2 {
			t.Fatalf("Nodes = %+v, %v", nodes, err)
		}
		if nodes[0].Alive(3*time.Second) || !nodes[1].Alive(3*time.Second) || nodes[1].CapacityMB != 25 {
			t.Errorf("after a leave and a heartbeat: %+v", nodes)
		}
		if err := db.Heartbeat(ctx, 999, 1); !errors.Is(err, database.ErrNotFound) {
			t.Errorf("Heartbeat of an unknown node = %v, want ErrNotFound", err)
		}
		if err := db.SetNodeState(ctx, a.ID, "sleeping"); err == nil {
			t.Errorf("SetNodeState to an unknown state: no error")
		}
	})
}

func TestPoolSettingsAndEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		if _, err := db.LatestPoolSettings(ctx); !errors.Is(err, database.ErrNotFound) {
			t.Errorf("LatestPoolSettings of none = %v, want ErrNotFound", err)
		}
		want := database.PoolSettings{Enabled: true, Interval: time.Minute, Cooldown: 3 * time.Minute, GrowAbove: 0.4,
			ShrinkBelow: 0.1, GrowRatio: 2, ShrinkRatio: 0.5, MinNodes: 1, MaxNodes: 8}
		stored, err := db.InsertPoolSettings(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.LatestPoolSettings(ctx)
		if err != nil || got != stored {
			t.Errorf("LatestPoolSettings = %+v, %v; want %+v", got, err, stored)
		}
		t0 := time.Now().Add(-time.Hour)
		for i, action := range []string{"hold", "grow", "shrink"} {
			if err := db.InsertPoolEvent(ctx, database.PoolEvent{CreatedAt: t0.Add(time.Duration(i) * time.Minute), Action: action,
				From: 2, To: 2 + i, MissRate: 0.5, Lookups: 100, Reason: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		events, err := db.PoolEvents(ctx, t0.Add(30*time.Second), 10)
		if err != nil || len(events) != 2 || events[0].Action != "shrink" || events[1].Action != "grow" || events[0].To != 4 {
			t.Errorf("PoolEvents = %+v, %v; want shrink then grow", events, err)
		}
		if n, err := db.PrunePoolEvents(ctx, t0.Add(90*time.Second)); err != nil || n != 2 {
			t.Errorf("PrunePoolEvents = %d, %v; want 2", n, err)
		}
	})
}

// TestClaimEvaluation: of backends racing for one interval's evaluation, exactly one wins.
func TestClaimEvaluation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbs := []*database.DB{open(t, dsn), open(t, dsn), open(t, dsn)}
		now := time.Now()
		var wins atomic.Int32
		var wg sync.WaitGroup
		for _, db := range dbs {
			for range 4 {
				wg.Go(func() {
					ok, err := db.ClaimEvaluation(ctx, now, time.Minute)
					if err != nil {
						t.Error(err)
					}
					if ok {
						wins.Add(1)
					}
				})
			}
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d of 12 claims won, want 1", wins.Load())
		}
		if ok, _ := dbs[0].ClaimEvaluation(ctx, now.Add(30*time.Second), time.Minute); ok {
			t.Errorf("a claim within the interval won")
		}
		if ok, _ := dbs[1].ClaimEvaluation(ctx, now.Add(61*time.Second), time.Minute); !ok {
			t.Errorf("a claim after the interval lost")
		}
	})
}

// TestStatsNodeID: rows keep their node, and a table made before node_id existed gets the column.
func TestStatsNodeID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		if err := db.InsertStats(ctx, database.StatsRow{KeyCount: 1, NodeID: 7}); err != nil {
			t.Fatal(err)
		}
		rows, err := db.StatsSince(ctx, time.Now().Add(-time.Minute))
		if err != nil || len(rows) != 1 || rows[0].NodeID != 7 {
			t.Errorf("StatsSince = %+v, %v; want node 7", rows, err)
		}
		// An old table: drop the column the way an older version never had it, then open again.
		if _, err := db.SQL().ExecContext(ctx, "ALTER TABLE cache_stats DROP COLUMN node_id"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db = open(t, dsn)
		if err := db.InsertStats(ctx, database.StatsRow{KeyCount: 2, NodeID: 3}); err != nil {
			t.Errorf("InsertStats after the migration: %v", err)
		}
	})
}
