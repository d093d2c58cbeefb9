package pool_test

import (
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/golang/groupcache/consistenthash"

	"imgcache/memcache/pool"
)

// objectNames returns n names shaped like the backend's object names (imagestore.NewName: 32 hex
// digits and an extension), from a fixed seed so that every run routes the same keys.
func objectNames(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 0x1dea))
	b := make([]byte, 16)
	out := make([]string, n)
	for i := range out {
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		out[i] = hex.EncodeToString(b) + ".png"
	}
	return out
}

// members returns members with the given ids; their URLs are never dialled by routing alone.
func members(ids ...int64) []pool.Member {
	out := make([]pool.Member, len(ids))
	for i, id := range ids {
		out[i] = pool.Member{ID: id, URL: fmt.Sprintf("http://127.0.0.%d:5001", id)}
	}
	return out
}

// seq is 1..n.
func seq(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// newRouter returns a pool over ids that is only asked for owners, closed with the test.
func newRouter(t testing.TB, opts pool.Options, ids ...int64) *pool.Pool {
	t.Helper()
	p := pool.New(opts)
	t.Cleanup(func() { p.Close() })
	if err := p.SetMembers(members(ids...)); err != nil {
		t.Fatalf("SetMembers(%v): %v", ids, err)
	}
	return p
}

// owners maps each key to the id of its owner in p.
func owners(t testing.TB, p *pool.Pool, keys []string) []int64 {
	t.Helper()
	out := make([]int64, len(keys))
	for i, k := range keys {
		m, ok := p.Owner(k)
		if !ok {
			t.Fatalf("Owner(%q): no owner", k)
		}
		out[i] = m.ID
	}
	return out
}

// spread is the largest relative distance of a member's key count from an equal share.
func spread(counts map[int64]int, n, keys int) float64 {
	ideal := float64(keys) / float64(n)
	worst := 0.0
	for _, c := range counts {
		worst = max(worst, math.Abs(float64(c)-ideal)/ideal)
	}
	if len(counts) < n { // a member with no key at all
		worst = 1
	}
	return worst
}

const (
	spreadKeys      = 10_000
	spreadTolerance = 0.10 // the bound on key counts
	// shareTolerance bounds the ring's own error, which sampling does not blur: with the default
	// replicas the worst member over sizes 2-8 is 2.8% off.
	shareTolerance = 0.05
)

func TestSpread(t *testing.T) {
	keys := objectNames(spreadKeys, 1)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%5s  %-40s  %8s  %9s\n", "nodes", "keys per node (10,000 keys)", "spread", "ring dev")
	for n := 2; n <= 8; n++ {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			p := newRouter(t, pool.Options{}, seq(n)...)
			counts := map[int64]int{}
			for _, id := range owners(t, p, keys) {
				counts[id]++
			}
			got := spread(counts, n, len(keys))
			if got > spreadTolerance {
				t.Errorf("key counts %v are %.1f%% off an equal share, want at most %.0f%%", counts, 100*got, 100*spreadTolerance)
			}
			ringDev := 0.0
			for id, s := range p.Shares() {
				d := math.Abs(s*float64(n) - 1)
				ringDev = max(ringDev, d)
				if d > shareTolerance {
					t.Errorf("member %d's share of the ring = %.4f, want %.4f within %.0f%%", id, s, 1/float64(n), 100*shareTolerance)
				}
			}
			var cs []string
			for _, id := range seq(n) {
				cs = append(cs, strconv.Itoa(counts[id]))
			}
			fmt.Fprintf(&table, "%5d  %-40s  %7.1f%%  %8.1f%%\n", n, strings.Join(cs, " "), 100*got, 100*ringDev)
		})
	}
	t.Log(table.String())
}

// TestSpreadNeedsReplicasAndMixing shows why the defaults are what they are: the same keys over the
// library's ring with few virtual nodes, or with its default hash (crc32), miss the bound.
func TestSpreadNeedsReplicasAndMixing(t *testing.T) {
	keys := objectNames(spreadKeys, 1)
	xx := func(b []byte) uint32 { return uint32(xxhash.Sum64(b)) }
	tests := []struct {
		name     string
		replicas int
		hash     consistenthash.Hash
		wantOK   bool
	}{
		{"xxhash, default replicas", pool.DefaultReplicas, xx, true},
		{"xxhash, 1 replica", 1, xx, false},
		{"xxhash, 50 replicas", 50, xx, false},
		{"crc32, default replicas", pool.DefaultReplicas, crc32.ChecksumIEEE, false},
		{"crc32, 160 replicas (ketama's count)", 160, crc32.ChecksumIEEE, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			worst := 0.0
			for n := 2; n <= 8; n++ {
				m := consistenthash.New(tt.replicas, tt.hash)
				for id := 1; id <= n; id++ {
					m.Add("node-" + strconv.Itoa(id))
				}
				counts := map[int64]int{}
				for _, k := range keys {
					id, _ := strconv.ParseInt(strings.TrimPrefix(m.Get(k), "node-"), 10, 64)
					counts[id]++
				}
				worst = max(worst, spread(counts, n, len(keys)))
			}
			t.Logf("worst spread over 2-8 nodes: %.1f%%", 100*worst)
			if ok := worst <= spreadTolerance; ok != tt.wantOK {
				t.Errorf("within %.0f%% = %v, want %v (worst %.1f%%)", 100*spreadTolerance, ok, tt.wantOK, 100*worst)
			}
		})
	}
}

// TestShares checks the shares the pool reports against where keys actually go, which also checks
// that the ring points the pool records are the library's.
func TestShares(t *testing.T) {
	keys := objectNames(200_000, 2)
	tests := []struct {
		name string
		ids  []int64
		opts pool.Options
	}{
		{"one member", []int64{7}, pool.Options{}},
		{"three members", []int64{1, 2, 3}, pool.Options{}},
		{"eight sparse ids", []int64{3, 14, 15, 92, 65, 35, 89, 79}, pool.Options{}},
		{"one replica each", []int64{1, 2, 3, 4}, pool.Options{Replicas: 1}},
		// "1"+"12" and "11"+"2" would be one point if members were named by bare ids.
		{"ids whose digits run together", []int64{2, 12, 112}, pool.Options{Replicas: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newRouter(t, tt.opts, tt.ids...)
			shares := p.Shares()
			counts := map[int64]int{}
			for _, id := range owners(t, p, keys) {
				counts[id]++
			}
			sum := 0.0
			for _, id := range tt.ids {
				s := shares[id]
				sum += s
				got := float64(counts[id]) / float64(len(keys))
				// 200,000 keys measure a share to about 0.1% (one standard deviation).
				if math.Abs(got-s) > 0.005 {
					t.Errorf("member %d: share %.4f, but %.4f of the keys go to it", id, s, got)
				}
			}
			if len(shares) != len(tt.ids) || math.Abs(sum-1) > 1e-9 {
				t.Errorf("shares %v: want one per member summing to 1 (sum %v)", shares, sum)
			}
		})
	}
}

// TestOwnerIgnoresOrder: every backend must route a key to the same node whatever order its
// membership query returned, including where two members' points collide: at 40,000 replicas each,
// eight members have about ten such points, and the shares show who took each.
func TestOwnerIgnoresOrder(t *testing.T) {
	keys := objectNames(2000, 3)
	tests := []struct {
		name     string
		replicas int
		a, b     []int64
	}{
		{"default replicas", 0, []int64{1, 2, 3, 4, 5}, []int64{4, 2, 5, 1, 3}},
		{"colliding points", 40_000, []int64{1, 2, 3, 4, 5, 6, 7, 8}, []int64{8, 3, 6, 1, 7, 2, 5, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newRouter(t, pool.Options{Replicas: tt.replicas}, tt.a...)
			b := newRouter(t, pool.Options{Replicas: tt.replicas}, tt.b...)
			oa, ob := owners(t, a, keys), owners(t, b, keys)
			for i := range keys {
				if oa[i] != ob[i] {
					t.Fatalf("key %q: owner %d in one order, %d in another", keys[i], oa[i], ob[i])
				}
			}
			if sa, sb := a.Shares(), b.Shares(); fmt.Sprint(sa) != fmt.Sprint(sb) {
				t.Errorf("shares depend on the order of the members:\n%v\n%v", sa, sb)
			}
		})
	}
}

// modulo16 is the course's scheme: 16 partitions by the key's hash, partition p on node p mod n.
func modulo16(key string, n int) int {
	return int(xxhash.Sum64String(key)%16) % n
}

// TestKeyMovement measures the share of keys that change owner when a node joins, against the ideal
// 1/(n+1) (only the newcomer's share moves) and against 16 partitions modulo the node count.
func TestKeyMovement(t *testing.T) {
	keys := objectNames(spreadKeys, 4)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-6s  %7s  %10s  %12s  %18s\n", "resize", "ideal", "consistent", "consistent/", "16 partitions")
	fmt.Fprintf(&table, "%-6s  %7s  %10s  %12s  %18s\n", "", "1/n", "hashing", "ideal", "modulo n")
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7} {
		t.Run(fmt.Sprintf("%d to %d", n, n+1), func(t *testing.T) {
			before := owners(t, newRouter(t, pool.Options{}, seq(n)...), keys)
			after := owners(t, newRouter(t, pool.Options{}, seq(n+1)...), keys)
			moved, movedMod := 0, 0
			for i, k := range keys {
				if before[i] != after[i] {
					moved++
					if after[i] != int64(n+1) {
						t.Errorf("key %q moved from %d to %d: only the new node %d should take keys", k, before[i], after[i], n+1)
					}
				}
				if modulo16(k, n) != modulo16(k, n+1) {
					movedMod++
				}
			}
			ideal := 1 / float64(n+1)
			got := float64(moved) / float64(len(keys))
			gotMod := float64(movedMod) / float64(len(keys))
			partitions := 0
			for p := range 16 {
				if p%n != p%(n+1) {
					partitions++
				}
			}
			if got > 1.5*ideal {
				t.Errorf("%.1f%% of the keys moved, want at most 1.5 x the ideal %.1f%%", 100*got, 100*ideal)
			}
			fmt.Fprintf(&table, "%d->%d    %6.1f%%  %9.1f%%  %11.2fx  %6.1f%% (%2d of 16)\n",
				n, n+1, 100*ideal, 100*got, got/ideal, 100*gotMod, partitions)
		})
	}
	t.Log(table.String())
}

// TestRemovalMovesOnlyTheLeaver: when a node leaves, its keys spread over the others and no other
// key moves.
func TestRemovalMovesOnlyTheLeaver(t *testing.T) {
	keys := objectNames(spreadKeys, 5)
	before := owners(t, newRouter(t, pool.Options{}, 1, 2, 3, 4, 5), keys)
	after := owners(t, newRouter(t, pool.Options{}, 1, 2, 4, 5), keys)
	took := map[int64]int{}
	for i, k := range keys {
		switch {
		case before[i] == 3:
			took[after[i]]++
		case after[i] != before[i]:
			t.Errorf("key %q moved from %d to %d though its node stayed", k, before[i], after[i])
		}
	}
	if len(took) != 4 {
		t.Errorf("node 3's keys went to %v, want spread over all 4 remaining nodes", took)
	}
}
