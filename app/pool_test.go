package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"imgcache/app"
	"imgcache/app/api"
	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache"
)

// poolStack is a pool of memcache nodes and a backend on one database.
type poolStack struct {
	nodes   []*memcache.Server
	backend *app.Server
	db      *database.DB
}

func startPool(t *testing.T, dsn string, n int) *poolStack {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ps := &poolStack{db: openDB(t, dsn)}
	for range n {
		mc, err := memcache.Start(context.Background(), memcache.Config{Addr: "127.0.0.1:0", DB: dsn, StatsInterval: time.Hour,
			Secret: stackSecret, Logger: quiet, Heartbeat: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mc.Close() })
		ps.nodes = append(ps.nodes, mc)
	}
	be, err := app.Start(context.Background(), app.Config{Addr: "127.0.0.1:0", MemcacheURL: ps.nodes[0].URL(), MemcacheSecret: stackSecret,
		DB: dsn, DataDir: t.TempDir(), PoolSync: 50 * time.Millisecond, NodeTimeout: time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	ps.backend = be
	return ps
}

// waitMembers waits until the backend routes to want nodes, as its /healthz and reads see them.
func (ps *poolStack) waitMembers(t *testing.T, want int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if ps.backend.PoolSize() == want {
			return
		}
	}
	t.Fatalf("the backend routes to %d nodes after 10 s, want %d", ps.backend.PoolSize(), want)
}

func (ps *poolStack) setState(t *testing.T, i int, state string) {
	t.Helper()
	nodes, err := ps.db.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.Address == ps.nodes[i].URL() {
			if err := ps.db.SetNodeState(context.Background(), n.ID, state); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("node %s is not in the table", ps.nodes[i].URL())
}

// TestPoolEndToEnd: three nodes on one database; the backend spreads the objects over them, one copy
// each; a node stood by or killed is routed around within seconds, and reads go on.
func TestPoolEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ps := startPool(t, dsn, 3)
		ps.waitMembers(t, 3)
		base := ps.backend.URL()
		const keys = 60
		for i := range keys {
			if status, _ := upload(t, base, fmt.Sprint("k", i), pngImage(t, i)); status != 200 {
				t.Fatalf("upload = %d", status)
			}
		}
		readAll := func(round string) {
			t.Helper()
			for i := range keys {
				status, ans := readKey(t, base, fmt.Sprint("k", i))
				data, _ := base64.StdEncoding.DecodeString(ans.Content)
				if status != 200 || pngVersion(t, data) != i {
					t.Fatalf("%s: read k%d = %d", round, i, status)
				}
			}
		}
		readAll("fill")
		readAll("hits")
		var items []int
		total := 0
		for _, n := range ps.nodes {
			st := nodeStats(t, n)
			items = append(items, st.Items)
			total += st.Items
		}
		if total != keys || slices.Contains(items, 0) {
			t.Errorf("items per node %v (total %d), want %d spread over all three, one copy each", items, total, keys)
		}
		ps.setState(t, 1, database.NodeStandby)
		ps.waitMembers(t, 2)
		readAll("one node standing by")
		ps.nodes[2].Close()
		ps.waitMembers(t, 1)
		readAll("one node left")
		if status, _ := upload(t, base, "late", pngImage(t, 99)); status != 200 {
			t.Errorf("upload with one node left = %d", status)
		}
	})
}

// TestPoolResizeServesNoStale runs the stale-read test while the pool grows and shrinks: a key that
// moves from node A to B, is rewritten, and moves back to A must not find its old image on A.
func TestPoolResizeServesNoStale(t *testing.T) {
	ps := startPool(t, dbtest.DSN(t, database.SQLite), 3)
	ps.waitMembers(t, 3)
	base := ps.backend.URL()
	resizes := 0
	staleRace(t, base, base, []string{"k0", "k1", "k2", "k3"}, 40, 4, func(writersDone <-chan struct{}, _ func() int64) {
		// Stand by node 2, then node 3, then bring both back, every 150 ms; after the last upload, one
		// more full cycle, so that keys move back to nodes they left before their last rewrite.
		states := [][2]string{{database.NodeStandby, database.NodeActive}, {database.NodeStandby, database.NodeStandby},
			{database.NodeActive, database.NodeStandby}, {database.NodeActive, database.NodeActive}}
		extra := -1
		for n := 0; extra != 0; n++ {
			time.Sleep(150 * time.Millisecond) // a resize every few syncs: the point of the test
			st := states[n%len(states)]
			ps.setState(t, 1, st[0])
			ps.setState(t, 2, st[1])
			resizes++
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
	t.Logf("%d resizes", resizes)
}

func nodeStats(t *testing.T, n *memcache.Server) (st struct{ Items int }) {
	t.Helper()
	s := cacheStats(t, &stack{Memcache: n})
	st.Items = s.Items
	return st
}

// TestAutoscaleOnce drives the auto-scaler's evaluation with recorded statistics and registered
// nodes: a high miss rate grows the pool and is recorded with its inputs, a second backend in the same
// interval does nothing, and the next interval holds in the cool-down.
func TestAutoscaleOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
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

// TestPoolPage: the pool page lists the nodes with their figures, stands a node by and activates it
// by hand (recorded among the decisions), refuses to stand by the last active node, saves the
// auto-scaler's settings and names every wrong field, and draws its two charts.
func TestPoolPage(t *testing.T) {
	ps := startPool(t, dbtest.DSN(t, database.SQLite), 2)
	ps.waitMembers(t, 2)
	base := ps.backend.URL()
	if status, _ := upload(t, base, "k", pngImage(t, 1)); status != 200 {
		t.Fatal("upload failed")
	}
	readKey(t, base, "k")
	r := request(t, "GET", base+"/pool", "", nil)
	wantPage(t, "pool", r, 200, "Memcache pool", ps.nodes[0].URL(), ps.nodes[1].URL(), "Stand by", "Auto-scaler", "/pool/chart/size.png")
	nodes, _ := ps.db.Nodes(context.Background())
	wantPoolAPI(t, base, api.Pool{Success: api.True, Routed: 2, Nodes: []api.PoolNode{
		{ID: nodes[0].ID, Address: ps.nodes[0].URL(), State: api.NodeActive, Alive: true, Routed: true},
		{ID: nodes[1].ID, Address: ps.nodes[1].URL(), State: api.NodeActive, Alive: true, Routed: true},
	}})

	r = postForm(t, base+"/pool/node", url.Values{"node": {fmt.Sprint(nodes[1].ID)}, "state": {"standby"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("stand by = %d: %s", r.Status, r.Body)
	}
	ps.waitMembers(t, 1)
	wantPoolAPI(t, base, api.Pool{Success: api.True, Routed: 1, Nodes: []api.PoolNode{
		{ID: nodes[0].ID, Address: ps.nodes[0].URL(), State: api.NodeActive, Alive: true, Routed: true},
		{ID: nodes[1].ID, Address: ps.nodes[1].URL(), State: api.NodeStandby, Alive: true, Routed: false},
	}})
	r = request(t, "GET", base+"/pool?changed=1", "", nil)
	wantPage(t, "after stand by", r, 200, "The node&#39;s state was changed", "by hand on the pool page", "Activate")
	r = postForm(t, base+"/pool/node", url.Values{"node": {fmt.Sprint(nodes[0].ID)}, "state": {"standby"}})
	wantPage(t, "last node", r, http.StatusUnprocessableEntity, "the last active node")
	r = postForm(t, base+"/pool/node", url.Values{"node": {fmt.Sprint(nodes[1].ID)}, "state": {"active"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("activate = %d", r.Status)
	}
	ps.waitMembers(t, 2)

	bad := url.Values{"enabled": {"on"}, "interval": {"soon"}, "grow_above": {"0.2"}, "shrink_below": {"0.5"}, "grow_ratio": {"2"},
		"shrink_ratio": {"0.5"}, "cool_down": {"5m"}, "min_nodes": {"3"}, "max_nodes": {"2"}}
	r = postForm(t, base+"/pool/autoscaler", bad)
	wantPage(t, "bad settings", r, 400, "Interval: &#34;soon&#34; is not a duration")
	bad.Set("interval", "1m")
	r = postForm(t, base+"/pool/autoscaler", bad)
	wantPage(t, "bad settings", r, 400, "shrink_below", "max_nodes")
	good := url.Values{"enabled": {"on"}, "interval": {"1m"}, "grow_above": {"0.5"}, "shrink_below": {"0.1"}, "grow_ratio": {"2"},
		"shrink_ratio": {"0.75"}, "cool_down": {"5m"}, "min_nodes": {"1"}, "max_nodes": {"8"}}
	if r = postForm(t, base+"/pool/autoscaler", good); r.Status != http.StatusSeeOther {
		t.Fatalf("save settings = %d: %s", r.Status, r.Body)
	}
	if got, err := ps.db.LatestPoolSettings(context.Background()); err != nil || !got.Enabled || got.ShrinkRatio != 0.75 {
		t.Errorf("saved settings = %+v, %v", got, err)
	}
	for _, chart := range []string{"size", "miss-rate"} {
		r := request(t, "GET", base+"/pool/chart/"+chart+".png", "", nil)
		if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" {
			t.Errorf("chart %s = %d %s", chart, r.Status, r.Header.Get("Content-Type"))
		}
	}
	if r := request(t, "GET", base+"/pool/chart/nope.png", "", nil); r.Status != 404 {
		t.Errorf("unknown chart = %d, want 404", r.Status)
	}
	// The statistics page shows the whole pool, and one node on request.
	r = request(t, "GET", base+"/cache_stats", "", nil)
	wantPage(t, "stats of the pool", r, 200, "those of the whole pool", "Whole pool", fmt.Sprintf("node=%d", nodes[1].ID))
	r = request(t, "GET", base+fmt.Sprintf("/cache_stats?node=%d", nodes[1].ID), "", nil)
	wantPage(t, "stats of a node", r, 200, fmt.Sprintf("those of node %d", nodes[1].ID))
}

// wantPoolAPI checks the backend's GET /api/pool against want.
func wantPoolAPI(t *testing.T, base string, want api.Pool) {
	t.Helper()
	r := request(t, "GET", base+api.PathPool, "", nil)
	var got api.Pool
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil || r.Status != 200 {
		t.Fatalf("GET %s = %d %q (%v), want 200 and the pool", api.PathPool, r.Status, r.Body, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GET %s = %+v,\nwant %+v", api.PathPool, got, want)
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
	r := request(t, "GET", s.URL()+api.PathPool, "", nil)
	var f api.Failure
	if err := json.Unmarshal([]byte(r.Body), &f); err != nil || r.Status != 404 || f.Error.Code != 404 || !strings.Contains(f.Error.Message, "single cache") {
		t.Errorf("GET %s = %d %q, want 404 saying there is no pool", api.PathPool, r.Status, r.Body)
	}
	if r := request(t, "POST", s.URL()+api.PathPool, "", nil); r.Status != 405 {
		t.Errorf("POST %s = %d, want 405", api.PathPool, r.Status)
	}
}

// The API names node states as the database stores them.
func TestPoolAPIStates(t *testing.T) {
	if api.NodeActive != database.NodeActive || api.NodeStandby != database.NodeStandby {
		t.Errorf("api states %q, %q; database %q, %q", api.NodeActive, api.NodeStandby, database.NodeActive, database.NodeStandby)
	}
}
