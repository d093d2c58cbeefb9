package apptest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"imgcache/app"
	"imgcache/app/api"
	"imgcache/database"
	"imgcache/memcache"
)

// PoolStack is a pool of memcache nodes and a backend on one database.
type PoolStack struct {
	Nodes   []*memcache.Server
	Backend *app.Server
	DB      *database.DB
}

// StartPool starts n memcache nodes and a backend over them on dsn. mutate may adjust the backend's config.
func StartPool(t *testing.T, dsn string, n int, mutate func(*app.Config)) *PoolStack {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ps := &PoolStack{DB: OpenDB(t, dsn)}
	for range n {
		mc, err := memcache.Start(context.Background(), memcache.Config{Addr: "127.0.0.1:0", DB: dsn, StatsInterval: time.Hour,
			Secret: StackSecret, Logger: quiet, Heartbeat: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mc.Close() })
		ps.Nodes = append(ps.Nodes, mc)
	}
	cfg := app.Config{Addr: "127.0.0.1:0", MemcacheURL: ps.Nodes[0].URL(), MemcacheSecret: StackSecret,
		DB: dsn, DataDir: t.TempDir(), PoolSync: 50 * time.Millisecond, NodeTimeout: time.Second, Logger: quiet,
		MemcacheTimeout: MemcacheTimeout}
	if mutate != nil {
		mutate(&cfg)
	}
	be, err := app.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	ps.Backend = be
	return ps
}

// AwaitMembers waits up to 10 s for the backend to route to want nodes, and reports whether it does.
// Unlike WaitMembers it may be called from any goroutine.
func (ps *PoolStack) AwaitMembers(want int) bool {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if ps.Backend.PoolSize() == want {
			return true
		}
	}
	return false
}

// WaitMembers waits until the backend routes to want nodes, as its /healthz and reads see them.
func (ps *PoolStack) WaitMembers(t *testing.T, want int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if ps.Backend.PoolSize() == want {
			return
		}
	}
	t.Fatalf("the backend routes to %d nodes after 10 s, want %d", ps.Backend.PoolSize(), want)
}

func (ps *PoolStack) SetState(t *testing.T, i int, state string) {
	t.Helper()
	nodes, err := ps.DB.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.Address == ps.Nodes[i].URL() {
			if err := ps.DB.SetNodeState(context.Background(), n.ID, state); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("node %s is not in the table", ps.Nodes[i].URL())
}

// WantPoolAPI checks the backend's GET /api/pool against want.
func WantPoolAPI(t *testing.T, base string, want api.Pool) {
	t.Helper()
	r := Request(t, "GET", base+api.PathPool, "", nil)
	var got api.Pool
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil || r.Status != 200 {
		t.Fatalf("GET %s = %d %q (%v), want 200 and the pool", api.PathPool, r.Status, r.Body, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GET %s = %+v,\nwant %+v", api.PathPool, got, want)
	}
}
