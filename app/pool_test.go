package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"imgcache/app/apptest"

	"imgcache/app"
	"imgcache/app/api"
	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache"
)

// TestPoolEndToEnd: three nodes on one database; the backend spreads the objects over them, one copy
// each; a node stood by or killed is routed around within seconds, and reads go on.
func TestPoolEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ps := apptest.StartPool(t, dsn, 3, nil)
		ps.WaitMembers(t, 3)
		base := ps.Backend.URL()
		const keys = 60
		for i := range keys {
			if status, _ := apptest.Upload(t, base, fmt.Sprint("k", i), apptest.PNGImage(t, i)); status != 200 {
				t.Fatalf("upload = %d", status)
			}
		}
		readAll := func(round string) {
			t.Helper()
			for i := range keys {
				status, ans := apptest.ReadKey(t, base, fmt.Sprint("k", i))
				data, _ := base64.StdEncoding.DecodeString(ans.Content)
				if status != 200 || apptest.PNGVersion(t, data) != i {
					t.Fatalf("%s: read k%d = %d", round, i, status)
				}
			}
		}
		readAll("fill")
		readAll("hits")
		var items []int
		total := 0
		for _, n := range ps.Nodes {
			st := nodeStats(t, n)
			items = append(items, st.Items)
			total += st.Items
		}
		if total != keys || slices.Contains(items, 0) {
			t.Errorf("items per node %v (total %d), want %d spread over all three, one copy each", items, total, keys)
		}
		ps.SetState(t, 1, database.NodeStandby)
		ps.WaitMembers(t, 2)
		readAll("one node standing by")
		ps.Nodes[2].Close()
		ps.WaitMembers(t, 1)
		readAll("one node left")
		if status, _ := apptest.Upload(t, base, "late", apptest.PNGImage(t, 99)); status != 200 {
			t.Errorf("upload with one node left = %d", status)
		}
	})
}

// TestPoolResizeServesNoStale runs the stale-read test while the pool grows and shrinks: a key that
// moves from node A to B, is rewritten, and moves back to A must not find its old image on A.
func TestPoolResizeServesNoStale(t *testing.T) {
	ps := apptest.StartPool(t, dbtest.DSN(t, database.SQLite), 3, nil)
	ps.WaitMembers(t, 3)
	base := ps.Backend.URL()
	resizes, routed := 0, 0
	staleRace(t, base, base, []string{"k0", "k1", "k2", "k3"}, 40, 4, func(writersDone <-chan struct{}, _ func() int64) {
		// Stand by node 2, then node 3, then bring both back, every 150 ms; after the last upload, one
		// more full cycle, so that keys move back to nodes they left before their last rewrite.
		states := [][2]string{{database.NodeStandby, database.NodeActive}, {database.NodeStandby, database.NodeStandby},
			{database.NodeActive, database.NodeStandby}, {database.NodeActive, database.NodeActive}}
		extra := -1
		for n := 0; extra != 0; n++ {
			time.Sleep(150 * time.Millisecond) // a resize every few syncs: the point of the test
			st := states[n%len(states)]
			ps.SetState(t, 1, st[0])
			ps.SetState(t, 2, st[1])
			resizes++
			// The backend must route by the new set before the next resize, or the race never
			// met a resize at all.
			want := 1
			for _, s := range st {
				if s == database.NodeActive {
					want++
				}
			}
			if ps.AwaitMembers(want) {
				routed++
			} else {
				t.Errorf("resize %d: the backend routes to %d nodes after 10 s, want %d", n, ps.Backend.PoolSize(), want)
			}
			select {
			case <-writersDone:
				if extra < 0 {
					extra = len(states)
				}
				extra--
			default:
			}
		}
	})
	t.Logf("%d resizes, %d seen by the backend's routing", resizes, routed)
}

func nodeStats(t *testing.T, n *memcache.Server) (st struct{ Items int }) {
	t.Helper()
	s := apptest.CacheStats(t, &apptest.Stack{Memcache: n})
	st.Items = s.Items
	return st
}

// TestAutoscaleOnce drives the auto-scaler's evaluation with recorded statistics and registered
// nodes: a high miss rate grows the pool and is recorded with its inputs, a second backend in the same
// interval does nothing, and the next interval holds in the cool-down.
func TestAutoscaleOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := apptest.OpenDB(t, dsn)
		// The evaluations below happen up to a minute ahead of the nodes' last heartbeat.
		cfg := app.Config{Logger: slog.New(slog.DiscardHandler), NodeTimeout: 2 * time.Minute}
		s := app.NewWithPool(cfg, db)
		other := app.NewWithPool(cfg, db)
		for i := range 4 {
			state := database.NodeStandby
			if i == 0 {
				state = database.NodeActive
			}
			if _, err := db.RegisterNode(ctx, fmt.Sprintf("http://10.0.0.%d:5001", i+1), 10, state); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.InsertPoolSettings(ctx, database.PoolSettings{Enabled: true, Interval: time.Minute, Cooldown: 5 * time.Minute,
			GrowAbove: 0.5, ShrinkBelow: 0.1, GrowRatio: 2, ShrinkRatio: 0.75, MinNodes: 1, MaxNodes: 8}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := db.InsertStats(ctx, database.StatsRow{HitCount: 200, MissCount: 800, RequestCount: 1000, CreatedAt: now.Add(-10 * time.Second), NodeID: 1}); err != nil {
			t.Fatal(err)
		}
		if err := s.AutoscaleOnce(ctx, now); err != nil {
			t.Fatal(err)
		}
		if err := other.AutoscaleOnce(ctx, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		events, err := db.PoolEvents(ctx, now.Add(-time.Hour), 10)
		if err != nil || len(events) != 1 {
			t.Fatalf("events = %+v, %v; want one (the second backend must not evaluate the same interval)", events, err)
		}
		if e := events[0]; e.Action != "grow" || e.From != 1 || e.To != 2 || e.MissRate != 0.8 || e.Lookups != 1000 {
			t.Errorf("event = %+v, want grow 1 -> 2 at miss rate 0.8 over 1000 lookups", e)
		}
		nodes, _ := db.Nodes(ctx)
		if nodes[1].State != database.NodeActive || nodes[2].State != database.NodeStandby {
			t.Errorf("after the grow: %+v, want the second node active, the third standing by", nodes)
		}
		if err := s.AutoscaleOnce(ctx, now.Add(61*time.Second)); err != nil {
			t.Fatal(err)
		}
		events, _ = db.PoolEvents(ctx, now.Add(-time.Hour), 10)
		if len(events) != 2 || events[0].Action != "hold" || events[0].To != 2 {
			t.Errorf("next interval: events %+v, want a hold at 2 nodes (cooling down)", events)
		}
		// After the cool-down two nodes miss little, but one node missed 0.8: the recorded grow
		// says a shrink would grow straight back, so the scaler holds.
		later := now.Add(6 * time.Minute)
		if err := db.InsertStats(ctx, database.StatsRow{HitCount: 990, MissCount: 10, RequestCount: 1000, CreatedAt: later.Add(-10 * time.Second), NodeID: 1}); err != nil {
			t.Fatal(err)
		}
		if err := s.AutoscaleOnce(ctx, later); err != nil {
			t.Fatal(err)
		}
		events, _ = db.PoolEvents(ctx, now.Add(-time.Hour), 10)
		if len(events) != 3 || events[0].Action != "hold" || events[0].To != 2 || !strings.Contains(events[0].Reason, "grow back") {
			t.Errorf("after the cool-down at a low miss rate: events %+v, want a hold at 2 nodes (a shrink would grow back)", events)
		}
	})
}

func TestActiveMembers(t *testing.T) {
	node := func(id int64, state string, age time.Duration) database.Node {
		return database.Node{ID: id, Address: fmt.Sprintf("http://n%d", id), State: state, Age: age}
	}
	tests := []struct {
		name  string
		nodes []database.Node
		want  []int64
	}{
		{"active and alive", []database.Node{node(1, database.NodeActive, 0), node(2, database.NodeActive, time.Second)}, []int64{1, 2}},
		{"standby left out", []database.Node{node(1, database.NodeActive, 0), node(2, database.NodeStandby, 0)}, []int64{1}},
		{"silent left out", []database.Node{node(1, database.NodeActive, 0), node(2, database.NodeActive, time.Minute)}, []int64{1}},
		{"none alive: none", []database.Node{node(1, database.NodeActive, time.Minute)}, nil},
		{"empty table: the configured memcache", nil, []int64{0}},
		{"nine active: the eight lowest ids", []database.Node{node(1, database.NodeActive, 0), node(2, database.NodeActive, 0),
			node(3, database.NodeActive, 0), node(4, database.NodeActive, 0), node(5, database.NodeStandby, 0), node(6, database.NodeActive, 0),
			node(7, database.NodeActive, 0), node(8, database.NodeActive, 0), node(9, database.NodeActive, 0), node(10, database.NodeActive, 0)},
			[]int64{1, 2, 3, 4, 6, 7, 8, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			for _, m := range app.ActiveMembers(tt.nodes, 3*time.Second, "http://fallback") {
				got = append(got, m.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("members %v, want %v", got, tt.want)
			}
		})
	}
}

// Over a single cache there is no pool to answer: a 404 in the API's failure shape, not an empty pool.
func TestPoolAPIWithoutAPool(t *testing.T) {
	s := app.New(app.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)}, newFakeCache(), newFakeStore(), newFakeFiles())
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	r := apptest.Request(t, "GET", s.URL()+api.PathPool, "", nil)
	var f api.Failure
	if err := json.Unmarshal([]byte(r.Body), &f); err != nil || r.Status != 404 || f.Error.Code != 404 || !strings.Contains(f.Error.Message, "single cache") {
		t.Errorf("GET %s = %d %q, want 404 saying there is no pool", api.PathPool, r.Status, r.Body)
	}
	if r := apptest.Request(t, "POST", s.URL()+api.PathPool, "", nil); r.Status != 405 {
		t.Errorf("POST %s = %d, want 405", api.PathPool, r.Status)
	}
}

// The API names node states as the database stores them.
func TestPoolAPIStates(t *testing.T) {
	if api.NodeActive != database.NodeActive || api.NodeStandby != database.NodeStandby {
		t.Errorf("api states %q, %q; database %q, %q", api.NodeActive, api.NodeStandby, database.NodeActive, database.NodeStandby)
	}
}

// TestDeleteAllClearsStandbyNodes: a delete-all empties the standby nodes too, not only the nodes the
// backend routes to, so no deleted image stays in any node's memory.
func TestDeleteAllClearsStandbyNodes(t *testing.T) {
	ps := apptest.StartPool(t, dbtest.DSN(t, database.SQLite), 3, nil)
	ps.WaitMembers(t, 3)
	base := ps.Backend.URL()
	for i := range 30 {
		k := fmt.Sprint("k", i)
		if status, _ := apptest.Upload(t, base, k, apptest.PNGImage(t, i)); status != 200 {
			t.Fatalf("upload = %d", status)
		}
		if status, _ := apptest.ReadKey(t, base, k); status != 200 {
			t.Fatalf("read = %d", status)
		}
	}
	if nodeStats(t, ps.Nodes[2]).Items == 0 {
		t.Fatal("the third node holds nothing before it stands by; the test proves nothing")
	}
	ps.SetState(t, 2, database.NodeStandby)
	ps.WaitMembers(t, 2)
	if status, _ := apptest.Call(t, "POST", base+"/api/delete_all", "", nil); status != 200 {
		t.Fatalf("delete_all = %d", status)
	}
	for i, n := range ps.Nodes {
		if items := nodeStats(t, n).Items; items != 0 {
			t.Errorf("node %d holds %d items after delete_all, want 0", i+1, items)
		}
	}
}
