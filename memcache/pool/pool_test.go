package pool_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache"
	"imgcache/memcache/client"
	"imgcache/memcache/pool"
	"imgcache/memcache/wire"
)

// testNode is a real memcache service in this process, with its own database.
type testNode struct {
	srv *memcache.Server
	dsn string
	c   *client.Client // a direct client, to look behind the pool's back
}

// startNodes starts n memcache services on 127.0.0.1, each with its own SQLite database; they stop
// with the test.
func startNodes(t testing.TB, n int) []*testNode {
	t.Helper()
	nodes := make([]*testNode, n)
	for i := range nodes {
		dsn := dbtest.DSNFor(t, database.SQLite)
		s, err := memcache.Start(context.Background(), memcache.Config{
			Addr:          "127.0.0.1:0",
			DB:            dsn,
			StatsInterval: time.Hour, // no statistics rows during a test
			Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
			Seed:          uint64(i + 1),
		})
		if err != nil {
			t.Fatalf("start memcache %d: %v", i+1, err)
		}
		t.Cleanup(func() { s.Close() })
		c, err := client.New(s.URL(), client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		nodes[i] = &testNode{srv: s, dsn: dsn, c: c}
	}
	return nodes
}

// memberSet names nodes as members 1..n.
func memberSet(nodes []*testNode) []pool.Member {
	out := make([]pool.Member, len(nodes))
	for i, n := range nodes {
		out[i] = pool.Member{ID: int64(i + 1), URL: n.srv.URL()}
	}
	return out
}

// newPool returns a pool over ms, closed with the test.
func newPool(t testing.TB, opts pool.Options, ms []pool.Member) *pool.Pool {
	t.Helper()
	p := pool.New(opts)
	t.Cleanup(func() { p.Close() })
	if err := p.SetMembers(ms); err != nil {
		t.Fatalf("SetMembers: %v", err)
	}
	return p
}

// value is a cacheable value: the service stores base64 text, as the backend sends it.
func value(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// fill puts value under key through the pool the way the backend does: a miss, then a fill under
// its lease.
func fill(t testing.TB, ctx context.Context, p *pool.Pool, key, value string) {
	t.Helper()
	_, lease, err := p.AppendGet(ctx, nil, key)
	if !errors.Is(err, wire.ErrMiss) {
		t.Fatalf("get %q before the fill: err = %v, want a miss", key, err)
	}
	if err := p.Fill(ctx, key, []byte(value), lease); err != nil {
		t.Fatalf("fill %q: %v", key, err)
	}
}

// cached reports whether the node holds key, asking it directly.
func (n *testNode) cached(t testing.TB, ctx context.Context, key string) bool {
	t.Helper()
	_, _, err := n.c.Get(ctx, key)
	switch {
	case err == nil:
		return true
	case errors.Is(err, wire.ErrMiss):
		return false
	}
	t.Fatalf("get %q from %s: %v", key, n.srv.URL(), err)
	return false
}

func (n *testNode) stats(t testing.TB, ctx context.Context) wire.Stats {
	t.Helper()
	st, err := n.c.Stats(ctx)
	if err != nil {
		t.Fatalf("stats of %s: %v", n.srv.URL(), err)
	}
	return st
}

// configure stores a cache configuration in the node's database, for its next refresh.
func (n *testNode) configure(t testing.TB, ctx context.Context, capacityMB int, policy string) {
	t.Helper()
	db, err := database.Open(ctx, n.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.InsertCacheProperties(ctx, database.CacheProperties{MaxCapacityMB: capacityMB, Policy: policy}); err != nil {
		t.Fatal(err)
	}
}

func TestRoutingByOwner(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 3)
	p := newPool(t, pool.Options{}, memberSet(nodes))
	keys := objectNames(60, 10)
	for _, k := range keys {
		fill(t, ctx, p, k, value("image "+k))
	}
	perNode := map[int64]int{}
	for _, k := range keys {
		owner, _ := p.Owner(k)
		perNode[owner.ID]++
		got, _, err := p.AppendGet(ctx, []byte("prefix:"), k)
		if err != nil || string(got) != "prefix:"+value("image "+k) {
			t.Errorf("get %q through the pool = %q, %v; want the prefix and its value", k, got, err)
		}
		for i, n := range nodes {
			if held, want := n.cached(t, ctx, k), int64(i+1) == owner.ID; held != want {
				t.Errorf("key %q on node %d: held = %v, want %v (owner %d)", k, i+1, held, want, owner.ID)
			}
		}
	}
	if len(perNode) != len(nodes) {
		t.Errorf("keys per node %v: want every node to own some of %d keys", perNode, len(keys))
	}

	// An invalidation reaches the owner, which then misses.
	k := keys[0]
	if err := p.Invalidate(ctx, k); err != nil {
		t.Fatalf("invalidate: %v", err)
	}
	if _, _, err := p.AppendGet(ctx, nil, k); !errors.Is(err, wire.ErrMiss) {
		t.Errorf("get %q after its invalidation: err = %v, want a miss", k, err)
	}
}

func TestFillAfterOwnerChangedIsRefused(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 2)
	all := memberSet(nodes)
	p := newPool(t, pool.Options{}, all[:1])
	probe := newRouter(t, pool.Options{}) // where keys go once node 2 joins
	if err := probe.SetMembers(all); err != nil {
		t.Fatal(err)
	}
	var moving, staying string
	for _, k := range objectNames(100, 11) {
		switch o, _ := probe.Owner(k); {
		case o.ID == 2 && moving == "":
			moving = k
		case o.ID == 1 && staying == "":
			staying = k
		}
	}

	// Both keys miss on node 1, then node 2 joins before the fills.
	leases := map[string]wire.Lease{}
	for _, k := range []string{moving, staying} {
		_, lease, err := p.AppendGet(ctx, nil, k)
		if !errors.Is(err, wire.ErrMiss) || lease == 0 {
			t.Fatalf("get %q: lease %d, err %v; want a miss with a lease", k, lease, err)
		}
		leases[k] = lease
	}
	if err := p.SetMembers(all); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		key  string
		want error
	}{
		{"key that moved: the new owner never gave the lease", moving, wire.ErrLeaseRevoked},
		{"key that stayed: its owner gave the lease", staying, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Fill(ctx, tt.key, []byte(value("v")), leases[tt.key])
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("fill: err = %v, want %v", err, tt.want)
			}
			var ne *pool.NodeError
			if err != nil && (!errors.As(err, &ne) || ne.Member.ID != 2) {
				t.Errorf("fill: err = %v, want a NodeError of member 2", err)
			}
		})
	}
	// The moved key misses again on its new owner and fills there.
	fill(t, ctx, p, moving, value("v"))
	if !nodes[1].cached(t, ctx, moving) || nodes[0].cached(t, ctx, moving) {
		t.Errorf("key %q: want it on node 2 only", moving)
	}
}

func TestFanOut(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 3)
	p := newPool(t, pool.Options{}, memberSet(nodes))
	keys := objectNames(30, 12)
	for _, k := range keys {
		fill(t, ctx, p, k, value("0123456789"))
	}

	t.Run("stats sum the nodes", func(t *testing.T) {
		sum, err := p.Stats(ctx)
		if err != nil {
			t.Fatalf("stats: %v", err)
		}
		var want wire.Stats
		for _, n := range nodes {
			st := n.stats(t, ctx)
			want.Items += st.Items
			want.Bytes += st.Bytes
			want.Capacity += st.Capacity
			want.Fills += st.Fills
		}
		if sum.Items != len(keys) || sum.Items != want.Items || sum.Bytes != want.Bytes ||
			sum.Capacity != want.Capacity || sum.Fills != want.Fills {
			t.Errorf("sum = %d items, %d bytes, capacity %d, %d fills; want %d items (%d on the nodes), %d bytes, capacity %d, %d fills",
				sum.Items, sum.Bytes, sum.Capacity, sum.Fills, len(keys), want.Items, want.Bytes, want.Capacity, want.Fills)
		}
		if sum.CapacityMB != 3*wire.DefaultCapacityMB || sum.Policy != wire.DefaultPolicy || sum.Success != wire.True {
			t.Errorf("sum = %d MB, policy %q, success %q; want %d MB, %q, %q",
				sum.CapacityMB, sum.Policy, sum.Success, 3*wire.DefaultCapacityMB, wire.DefaultPolicy, wire.True)
		}
	})

	t.Run("node stats with shares", func(t *testing.T) {
		ns, err := p.NodeStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		shares := p.Shares()
		items := 0
		for i, s := range ns {
			if s.Member.ID != int64(i+1) || s.Err != nil || s.Share != shares[s.Member.ID] {
				t.Errorf("node stat %d = member %d, share %v, err %v; want member %d, share %v, no error",
					i, s.Member.ID, s.Share, s.Err, i+1, shares[int64(i+1)])
			}
			items += s.Stats.Items
		}
		if items != len(keys) {
			t.Errorf("items over the node stats = %d, want %d", items, len(keys))
		}
	})

	t.Run("refresh reaches every node", func(t *testing.T) {
		for _, n := range nodes {
			n.configure(t, ctx, 3, wire.PolicyRandom)
		}
		if err := p.Refresh(ctx); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		for i, n := range nodes {
			if st := n.stats(t, ctx); st.CapacityMB != 3 || st.Policy != wire.PolicyRandom {
				t.Errorf("node %d after refresh: %d MB, %q; want 3 MB, %q", i+1, st.CapacityMB, st.Policy, wire.PolicyRandom)
			}
		}
		sum, err := p.Stats(ctx)
		if err != nil || sum.CapacityMB != 9 || sum.Policy != wire.PolicyRandom {
			t.Errorf("stats = %d MB, %q, %v; want 9 MB, %q", sum.CapacityMB, sum.Policy, err, wire.PolicyRandom)
		}
		nodes[0].configure(t, ctx, 3, wire.PolicyLRU)
		if err := p.Refresh(ctx); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if sum, _ := p.Stats(ctx); sum.Policy != pool.PolicyMixed {
			t.Errorf("policy of nodes with two policies = %q, want %q", sum.Policy, pool.PolicyMixed)
		}
	})

	t.Run("clear empties every node", func(t *testing.T) {
		if err := p.Clear(ctx); err != nil {
			t.Fatalf("clear: %v", err)
		}
		for i, n := range nodes {
			if st := n.stats(t, ctx); st.Items != 0 {
				t.Errorf("node %d holds %d items after clear, want 0", i+1, st.Items)
			}
		}
	})
}

// TestNodeKilled: a node dies mid-run. Its keys fail fast (the backend reads them from storage),
// the other nodes' keys still hit, the calls for every node report the dead one, and once the
// membership drops it, its keys refill on the others and nothing else moves.
func TestNodeKilled(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 3)
	// A long timeout: a call that waited for it instead of failing at once would show.
	const timeout = 20 * time.Second
	p := newPool(t, pool.Options{Node: client.Options{Timeout: timeout}}, memberSet(nodes))
	keys := objectNames(90, 13)
	for _, k := range keys {
		fill(t, ctx, p, k, value("v"))
	}
	if err := nodes[1].srv.Close(); err != nil {
		t.Fatalf("kill node 2: %v", err)
	}

	for _, k := range keys {
		owner, _ := p.Owner(k)
		start := time.Now()
		_, _, err := p.AppendGet(ctx, nil, k)
		took := time.Since(start)
		if owner.ID != 2 {
			if err != nil {
				t.Errorf("get %q from live node %d: %v", k, owner.ID, err)
			}
			continue
		}
		var ne *pool.NodeError
		if !errors.Is(err, wire.ErrUnavailable) || !errors.As(err, &ne) || ne.Member.ID != 2 {
			t.Errorf("get %q from the dead node: err = %v, want ErrUnavailable from member 2", k, err)
		}
		if took > timeout/10 {
			t.Errorf("get %q from the dead node took %v: want a quick failure, not the %v timeout", k, took, timeout)
		}
	}

	failsForNode2 := func(name string, err error) {
		t.Helper()
		var ne *pool.NodeError
		if !errors.Is(err, wire.ErrUnavailable) || !errors.As(err, &ne) || ne.Member.ID != 2 {
			t.Errorf("%s with node 2 dead: err = %v, want ErrUnavailable naming member 2", name, err)
		}
	}
	failsForNode2("clear", p.Clear(ctx))
	failsForNode2("refresh", p.Refresh(ctx))
	sum, err := p.Stats(ctx)
	failsForNode2("stats", err)
	if want := nodes[0].stats(t, ctx).Items + nodes[2].stats(t, ctx).Items; sum.Items != want {
		t.Errorf("stats with node 2 dead: %d items, want the live nodes' %d", sum.Items, want)
	}
	if err := p.Health(ctx); err != nil {
		t.Errorf("health with 2 of 3 nodes alive: %v, want nil", err)
	}

	// The membership drops the dead node: its keys now miss on the others and refill there.
	before := owners(t, p, keys)
	if err := p.SetMembers([]pool.Member{memberSet(nodes)[0], memberSet(nodes)[2]}); err != nil {
		t.Fatal(err)
	}
	after := owners(t, p, keys)
	for i, k := range keys {
		if before[i] != 2 {
			if after[i] != before[i] {
				t.Errorf("key %q moved from live node %d to %d", k, before[i], after[i])
			}
			continue
		}
		fill(t, ctx, p, k, value("v"))
		if _, _, err := p.AppendGet(ctx, nil, k); err != nil {
			t.Errorf("get %q after its refill on node %d: %v", k, after[i], err)
		}
	}
	if err := p.Clear(ctx); err != nil {
		t.Errorf("clear without the dead node: %v", err)
	}
}

func TestHealth(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 2)
	p := newPool(t, pool.Options{}, memberSet(nodes))
	if err := p.Health(ctx); err != nil {
		t.Fatalf("health with every node up: %v", err)
	}
	nodes[0].srv.Close()
	if err := p.Health(ctx); err != nil {
		t.Errorf("health with one node up: %v", err)
	}
	nodes[1].srv.Close()
	if err := p.Health(ctx); !errors.Is(err, wire.ErrUnavailable) {
		t.Errorf("health with every node down: %v, want ErrUnavailable", err)
	}
}

// TestEmptyAndClosed: a pool without members, or closed, fails every call with ErrUnavailable.
func TestEmptyAndClosed(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 1)
	calls := []struct {
		name string
		call func(*pool.Pool) error
	}{
		{"get", func(p *pool.Pool) error { _, _, err := p.AppendGet(ctx, nil, "k"); return err }},
		{"fill", func(p *pool.Pool) error { return p.Fill(ctx, "k", []byte("v"), 1) }},
		{"invalidate", func(p *pool.Pool) error { return p.Invalidate(ctx, "k") }},
		{"clear", func(p *pool.Pool) error { return p.Clear(ctx) }},
		{"refresh", func(p *pool.Pool) error { return p.Refresh(ctx) }},
		{"stats", func(p *pool.Pool) error { _, err := p.Stats(ctx); return err }},
		{"node stats", func(p *pool.Pool) error { _, err := p.NodeStats(ctx); return err }},
		{"health", func(p *pool.Pool) error { return p.Health(ctx) }},
	}
	states := []struct {
		name  string
		setup func(*pool.Pool)
		want  error
	}{
		{"new", func(*pool.Pool) {}, pool.ErrNoMembers},
		{"emptied", func(p *pool.Pool) {
			if err := p.SetMembers(memberSet(nodes)); err != nil {
				t.Fatal(err)
			}
			if err := p.SetMembers(nil); err != nil {
				t.Fatal(err)
			}
		}, pool.ErrNoMembers},
		{"closed", func(p *pool.Pool) {
			if err := p.SetMembers(memberSet(nodes)); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		}, pool.ErrClosed},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			p := pool.New(pool.Options{})
			defer p.Close()
			st.setup(p)
			for _, c := range calls {
				if err := c.call(p); !errors.Is(err, st.want) || !errors.Is(err, wire.ErrUnavailable) {
					t.Errorf("%s: err = %v, want %v wrapping %v", c.name, err, st.want, wire.ErrUnavailable)
				}
			}
			if _, ok := p.Owner("k"); ok {
				t.Errorf("Owner: ok, want no owner")
			}
			if s := p.Shares(); len(s) != 0 {
				t.Errorf("Shares = %v, want none", s)
			}
		})
	}

	t.Run("close twice, then set members", func(t *testing.T) {
		p := pool.New(pool.Options{})
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close: %v, want nil", err)
		}
		if err := p.SetMembers(memberSet(nodes)); !errors.Is(err, pool.ErrClosed) {
			t.Errorf("SetMembers after Close: %v, want ErrClosed", err)
		}
	})
}

func TestSetMembersRefuses(t *testing.T) {
	tests := []struct {
		name    string
		members []pool.Member
	}{
		{"an id twice", []pool.Member{{ID: 1, URL: "http://127.0.0.1:1"}, {ID: 1, URL: "http://127.0.0.1:2"}}},
		{"a URL twice", []pool.Member{{ID: 1, URL: "http://127.0.0.1:1"}, {ID: 2, URL: "http://127.0.0.1:1"}}},
		{"a URL that is not http", []pool.Member{{ID: 1, URL: "ftp://127.0.0.1:1"}}},
		{"more than MaxMembers", members(seq(pool.MaxMembers + 1)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newRouter(t, pool.Options{Replicas: 10}, 5, 6)
			if err := p.SetMembers(tt.members); err == nil {
				t.Errorf("SetMembers(%v) = nil, want an error", tt.members)
			}
			if got := p.Members(); fmt.Sprint(got) != fmt.Sprint(members(5, 6)) {
				t.Errorf("members after a refused change = %v, want the previous %v", got, members(5, 6))
			}
		})
	}
}

// TestInvalidateReachesOnlyTheCurrentOwner pins down why the backend keys the cache by immutable
// object names: a key that moves from node 1 to node 2, is invalidated there, and moves back finds
// its old copy on node 1 again. Under a user's key that copy would be a stale image; under an object
// name it is the same bytes, and harmless.
func TestInvalidateReachesOnlyTheCurrentOwner(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 2)
	all := memberSet(nodes)
	p := newPool(t, pool.Options{}, all)
	var key string
	for _, k := range objectNames(100, 14) {
		if o, _ := p.Owner(k); o.ID == 1 {
			key = k
			break
		}
	}
	fill(t, ctx, p, key, value("old"))
	if err := p.SetMembers(all[1:]); err != nil { // node 1 leaves: the key moves to node 2
		t.Fatal(err)
	}
	if err := p.Invalidate(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := p.SetMembers(all); err != nil { // node 1 is back: so is the key
		t.Fatal(err)
	}
	got, _, err := p.AppendGet(ctx, nil, key)
	if err != nil || string(got) != value("old") {
		t.Errorf("get after move, invalidate, move back = %q, %v; want the copy node 1 kept, %q", got, err, value("old"))
	}
}
