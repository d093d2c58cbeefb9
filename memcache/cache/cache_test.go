package cache

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

func mustGetHit(t *testing.T, c *Cache, key string, want []byte) {
	t.Helper()
	v, l, ok := c.Get(key)
	if !ok || l != 0 || !bytes.Equal(v, want) {
		t.Fatalf("Get(%q) = %q, %d, %v; want %q, 0, true", key, v, l, ok, want)
	}
}

func mustMiss(t *testing.T, c *Cache, key string) Lease {
	t.Helper()
	v, l, ok := c.Get(key)
	if ok || v != nil {
		t.Fatalf("Get(%q) = %q, %v; want a miss", key, v, ok)
	}
	return l
}

func TestNewDefaults(t *testing.T) {
	tests := []struct {
		name         string
		cfg          Config
		wantCapacity int64
		wantPolicy   Policy
	}{
		{"zero config", Config{}, DefaultCapacity, LRU},
		{"explicit", Config{Capacity: 3 * MB, Policy: Random}, 3 * MB, Random},
		{"SIEVE", Config{Policy: SIEVE}, DefaultCapacity, SIEVE},
		{"S3-FIFO", Config{Capacity: MB, Policy: S3FIFO}, MB, S3FIFO},
		{"negative starts off", Config{Capacity: -1}, 0, LRU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := New(tt.cfg).Stats()
			if st.Capacity != tt.wantCapacity || st.Policy != tt.wantPolicy || st.Items != 0 || st.Bytes != 0 {
				t.Errorf("Stats() = %+v, want capacity %d, policy %v, empty", st, tt.wantCapacity, tt.wantPolicy)
			}
		})
	}
}

func TestCacheMissHandsOutLease(t *testing.T) {
	c := New(Config{})
	la := mustMiss(t, c, "a")
	if la == 0 {
		t.Fatalf("Get(%q) miss lease = 0, want non-zero", "a")
	}
	if again := mustMiss(t, c, "a"); again != la {
		t.Errorf("second miss lease = %d, want the outstanding %d", again, la)
	}
	if lb := mustMiss(t, c, "b"); lb == 0 || lb == la {
		t.Errorf("Get(%q) lease = %d, want non-zero and unlike %d", "b", lb, la)
	}
	if err := c.Fill("a", []byte("A"), la); err != nil {
		t.Fatalf("Fill(%q) = %v, want nil", "a", err)
	}
	mustGetHit(t, c, "a", []byte("A"))
	c.Invalidate("a")
	if l := mustMiss(t, c, "a"); l == 0 || l == la {
		t.Errorf("lease after consume = %d, want a new one (not %d)", l, la)
	}
}

func TestCacheLeases(t *testing.T) {
	tests := []struct {
		name string
		// between runs after the miss that hands out lease and returns the
		// lease the reader then fills with.
		between   func(c *Cache, lease Lease) Lease
		wantErr   error
		wantValue string // "" means the key must miss after the fill
	}{
		{"fill with the lease", func(_ *Cache, l Lease) Lease { return l }, nil, "old"},
		{"fill after invalidate", func(c *Cache, l Lease) Lease { c.Invalidate("k"); return l }, ErrLeaseRevoked, ""},
		{"fill after clear", func(c *Cache, l Lease) Lease { c.Clear(); return l }, ErrLeaseRevoked, ""},
		{"fill after put", func(c *Cache, l Lease) Lease { c.Put("k", []byte("new")); return l }, ErrLeaseRevoked, "new"},
		{"fill after invalidate and a new miss", func(c *Cache, l Lease) Lease {
			c.Invalidate("k")
			c.Get("k") // a second reader now holds a fresh lease
			return l
		}, ErrLeaseRevoked, ""},
		{"fill after another key is invalidated", func(c *Cache, l Lease) Lease { c.Invalidate("other"); return l }, nil, "old"},
		{"fill with a wrong lease", func(_ *Cache, l Lease) Lease { return l + 1 }, ErrLeaseRevoked, ""},
		{"fill with lease zero", func(*Cache, Lease) Lease { return 0 }, ErrLeaseRevoked, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{})
			fillWith := tt.between(c, mustMiss(t, c, "k"))
			err := c.Fill("k", []byte("old"), fillWith)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Fill = %v, want %v", err, tt.wantErr)
			}
			if tt.wantValue == "" {
				mustMiss(t, c, "k")
			} else {
				mustGetHit(t, c, "k", []byte(tt.wantValue))
			}
			st := c.Stats()
			wantRefused := uint64(0)
			if tt.wantErr != nil {
				wantRefused = 1
			}
			if st.Fills != 1 || st.RefusedFills != wantRefused {
				t.Errorf("Fills, RefusedFills = %d, %d; want 1, %d", st.Fills, st.RefusedFills, wantRefused)
			}
		})
	}
}

func TestCacheLeaseConsumedOnce(t *testing.T) {
	c := New(Config{})
	lease := mustMiss(t, c, "k")
	if again := mustMiss(t, c, "k"); again != lease {
		t.Fatalf("second reader's lease = %d, want %d", again, lease)
	}
	if err := c.Fill("k", []byte("v1"), lease); err != nil {
		t.Fatalf("first Fill = %v, want nil", err)
	}
	c.Invalidate("k") // a writer replaced the value
	if err := c.Fill("k", []byte("v1"), lease); !errors.Is(err, ErrLeaseRevoked) {
		t.Fatalf("second Fill with the same lease = %v, want ErrLeaseRevoked", err)
	}
	mustMiss(t, c, "k")
}

// TestCacheNoStaleRead plays, step by step, the race leases exist for: a
// reader misses and loads the old image, a writer replaces it and invalidates,
// and the reader's late fill must not put the old image back.
func TestCacheNoStaleRead(t *testing.T) {
	c := New(Config{})
	c.Put("img", []byte("old"))
	c.Invalidate("img") // evicted or never cached: the reader will miss
	lease := mustMiss(t, c, "img")
	oldBytes := []byte("old") // the reader has read the old file...
	// ...then the writer replaces the file, commits, and invalidates.
	c.Invalidate("img")
	if err := c.Fill("img", oldBytes, lease); !errors.Is(err, ErrLeaseRevoked) {
		t.Fatalf("stale Fill = %v, want ErrLeaseRevoked", err)
	}
	// The next reader misses, reads the new file and fills it.
	lease = mustMiss(t, c, "img")
	if err := c.Fill("img", []byte("new"), lease); err != nil {
		t.Fatalf("fresh Fill = %v, want nil", err)
	}
	mustGetHit(t, c, "img", []byte("new"))
}

func TestCacheLeaseTableBounded(t *testing.T) {
	const max = 4 // one set: every key shares it
	c := New(Config{MaxLeases: max})
	if got := len(c.leases.sets); got != 1 {
		t.Fatalf("MaxLeases %d made %d sets, want 1", max, got)
	}
	leases := map[string]Lease{}
	for i := range max {
		k := fmt.Sprint(i)
		leases[k] = mustMiss(t, c, k)
	}
	if got := c.leases.len(); got != max {
		t.Fatalf("lease table holds %d, want %d", got, max)
	}
	leases["new"] = mustMiss(t, c, "new") // displaces the oldest, "0"
	if got := c.leases.len(); got != max {
		t.Fatalf("lease table holds %d after overflow, want %d", got, max)
	}
	for k, l := range leases {
		err := c.Fill(k, []byte("v"), l)
		if k == "0" && !errors.Is(err, ErrLeaseRevoked) {
			t.Errorf("Fill(%q) with the displaced lease = %v, want ErrLeaseRevoked", k, err)
		}
		if k != "0" && err != nil {
			t.Errorf("Fill(%q) with a live lease = %v, want nil", k, err)
		}
	}
	for i := range 1000 {
		c.Get(fmt.Sprint("k", i))
		if got := c.leases.len(); got > max {
			t.Fatalf("lease table holds %d, want <= %d", got, max)
		}
	}
	if got := len(c.leases.sets); got != 1 {
		t.Errorf("lease table grew to %d sets, want 1", got)
	}
}

func TestCacheManyLeases(t *testing.T) {
	const keys = 500
	c := New(Config{})
	if got, want := len(c.leases.sets)*leaseWays, DefaultMaxLeases; got != want {
		t.Errorf("default lease table holds %d, want %d", got, want)
	}
	leases := make([]Lease, keys)
	seen := map[Lease]bool{}
	for i := range leases {
		leases[i] = mustMiss(t, c, fmt.Sprint("k", i))
		if seen[leases[i]] {
			t.Fatalf("lease %d handed out twice", leases[i])
		}
		seen[leases[i]] = true
	}
	refused := 0
	for i, l := range leases {
		if err := c.Fill(fmt.Sprint("k", i), []byte("v"), l); err != nil {
			refused++
		}
	}
	// A lease is lost only when five of the 500 keys share one of the 16,384
	// sets: about one run in ten thousand loses one.
	if refused > 5 {
		t.Errorf("%d of %d fills refused, want nearly none", refused, keys)
	}
	if got := c.leases.len(); got != refused {
		t.Errorf("%d leases outstanding after the fills, want %d", got, refused)
	}
}

func TestCacheCachingOff(t *testing.T) {
	c := New(Config{Capacity: 100})
	c.Put("a", []byte("1"))
	leaseBefore := mustMiss(t, c, "b")
	if n := c.Configure(0, LRU); n != 1 {
		t.Errorf("Configure(0) evicted %d, want 1", n)
	}
	if l := mustMiss(t, c, "a"); l != 0 {
		t.Errorf("Get with caching off lease = %d, want 0", l)
	}
	if err := c.Put("a", []byte("1")); err != nil {
		t.Errorf("Put with caching off = %v, want nil", err)
	}
	if err := c.Put("a", make([]byte, 1000)); err != nil {
		t.Errorf("Put of a large value with caching off = %v, want nil", err)
	}
	if err := c.Fill("b", []byte("2"), leaseBefore); err != nil {
		t.Errorf("Fill with caching off = %v, want nil", err)
	}
	mustMiss(t, c, "a")
	mustMiss(t, c, "b")
	if st := c.Stats(); st.Items != 0 || st.Bytes != 0 || st.Capacity != 0 {
		t.Errorf("Stats() = %+v, want empty with capacity 0", st)
	}
	c.Configure(100, Random)
	c.Put("a", []byte("1"))
	mustGetHit(t, c, "a", []byte("1"))
}

func TestCacheTooLarge(t *testing.T) {
	c := New(Config{Capacity: 100})
	c.Put("keep", []byte("x"))
	c.Put("k", []byte("old"))
	err := c.Put("k", make([]byte, 100))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put(oversize) = %v, want ErrTooLarge", err)
	}
	mustMiss(t, c, "k")
	mustGetHit(t, c, "keep", []byte("x"))
	lease := mustMiss(t, c, "k")
	if err := c.Fill("k", make([]byte, 200), lease); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Fill(oversize) = %v, want ErrTooLarge", err)
	}
	if st := c.Stats(); st.Evictions != 0 || st.Items != 1 || st.Bytes != 5 {
		t.Errorf("Stats() = %+v, want 1 item of 5 bytes, no evictions", st)
	}
}

func TestCacheConfigure(t *testing.T) {
	var evicted []string
	c := New(Config{Capacity: 100, OnEvict: func(k string, _ []byte) { evicted = append(evicted, k) }})
	for i := range 10 {
		c.Put(fmt.Sprint(i), make([]byte, 9))
	}
	c.Get("0")
	if n := c.Configure(100, Random); n != 0 {
		t.Errorf("Configure(same capacity, Random) evicted %d, want 0", n)
	}
	if st := c.Stats(); st.Items != 10 || st.Policy != Random {
		t.Errorf("after a policy switch Stats() = %+v, want 10 items, Random", st)
	}
	if n := c.Configure(50, LRU); n != 5 {
		t.Errorf("Configure(50, LRU) evicted %d, want 5", n)
	}
	if want := []string{"1", "2", "3", "4", "5"}; fmt.Sprint(evicted) != fmt.Sprint(want) {
		t.Errorf("evicted %q, want %q", evicted, want)
	}
	mustGetHit(t, c, "0", make([]byte, 9))
	if st := c.Stats(); st.Evictions != 5 || st.Bytes != 50 || st.Capacity != 50 {
		t.Errorf("Stats() = %+v, want 5 evictions, 50 of 50 bytes", st)
	}
}

func TestCacheStats(t *testing.T) {
	c := New(Config{Capacity: 20})
	c.Put("a", make([]byte, 9)) // 10 bytes
	c.Put("b", make([]byte, 9))
	c.Get("a")
	l := mustMiss(t, c, "c")
	c.Fill("c", make([]byte, 9), l) // evicts b
	c.Fill("d", nil, 12345)         // refused
	c.Invalidate("a")
	c.Invalidate("zzz")
	got := c.Stats()
	want := Stats{
		Items: 1, Bytes: 10, Capacity: 20, Policy: LRU,
		Gets: 2, Hits: 1, Misses: 1, Puts: 2, Fills: 2, RefusedFills: 1,
		Evictions: 1, Invalidations: 2,
	}
	if got != want {
		t.Errorf("Stats() = %+v\nwant %+v", got, want)
	}
	c.Clear()
	if got := c.Stats(); got.Items != 0 || got.Bytes != 0 || got.Gets != 2 {
		t.Errorf("after Clear Stats() = %+v, want empty with counters kept", got)
	}
}

func TestCacheOnEvictOutsideLock(t *testing.T) {
	var c *Cache
	var seen []Stats
	c = New(Config{Capacity: 20, OnEvict: func(string, []byte) {
		seen = append(seen, c.Stats()) // would deadlock under the lock
	}})
	c.Put("a", make([]byte, 9))
	c.Put("b", make([]byte, 9))
	c.Put("c", make([]byte, 9))
	c.Put("d", make([]byte, 19))
	if len(seen) != 3 {
		t.Fatalf("OnEvict called %d times, want 3", len(seen))
	}
	if last := seen[2]; last.Items != 1 || last.Evictions != 3 {
		t.Errorf("Stats() inside OnEvict = %+v, want the finished operation", last)
	}
}

func TestCacheGetAllocatesNothing(t *testing.T) {
	for _, p := range Policies() {
		t.Run(p.String(), func(t *testing.T) {
			c := New(Config{Policy: p})
			c.Put("k", make([]byte, 1000))
			if allocs := testing.AllocsPerRun(1000, func() { c.Get("k") }); allocs != 0 {
				t.Errorf("Get hit allocates %v times per call, want 0", allocs)
			}
		})
	}
}

func TestCacheConfigureSwitchKeepsEntries(t *testing.T) {
	var evicted []string
	c := New(Config{Capacity: 100, OnEvict: func(k string, _ []byte) { evicted = append(evicted, k) }})
	for i := range 10 {
		c.Put(fmt.Sprint(i), make([]byte, 9))
	}
	for i, p := range everySwitch {
		if n := c.Configure(100, p); n != 0 {
			t.Errorf("Configure(100, %v) evicted %d, want 0", p, n)
		}
		if st := c.Stats(); st.Items != 10 || st.Bytes != 100 || st.Policy != p {
			t.Errorf("after Configure(100, %v) Stats() = %+v, want 10 items, 100 bytes, %v", p, st, p)
		}
		mustGetHit(t, c, fmt.Sprint(i%10), make([]byte, 9)) // a use under each policy
	}
	if len(evicted) != 0 {
		t.Errorf("evicted %q, want none", evicted)
	}
	if n := c.Configure(50, S3FIFO); n != 5 {
		t.Errorf("Configure(50, S3-FIFO) evicted %d, want 5", n)
	}
	if st := c.Stats(); st.Items != 5 || st.Bytes != 50 || st.Evictions != 5 {
		t.Errorf("Stats() = %+v, want 5 items of 50 bytes, 5 evictions", st)
	}
}

func TestCacheConcurrent(t *testing.T) {
	for _, p := range Policies() {
		t.Run(p.String(), func(t *testing.T) { testCacheConcurrent(t, p) })
	}
}

// testCacheConcurrent runs workers that get, fill, put, invalidate, clear,
// reconfigure (to any policy) and read stats at once, starting under policy
// p, and checks that no one sees another key's value and the store stays
// consistent. Run it under -race.
func testCacheConcurrent(t *testing.T, p Policy) {
	const (
		workers = 8
		ops     = 3000
		keys    = 64
	)
	var evictions sync.Map
	c := New(Config{Capacity: 4000, Policy: p, MaxLeases: 16, OnEvict: func(k string, v []byte) {
		if !bytes.HasPrefix(v, []byte(k+":")) {
			t.Errorf("OnEvict(%q) got a value of another key: %.10q", k, v)
		}
		evictions.Store(k, true)
	}})
	// Each value starts with its key, so a Get can tell if it got another
	// key's value; values are shared and never modified.
	values := make([][]byte, keys)
	for i := range values {
		values[i] = fmt.Appendf(nil, "k%d:%s", i, bytes.Repeat([]byte{'x'}, 20*i))
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				i := r.IntN(keys)
				key := fmt.Sprint("k", i)
				switch n := r.IntN(100); {
				case n < 50:
					v, lease, ok := c.Get(key)
					if ok && !bytes.Equal(v, values[i]) {
						t.Errorf("Get(%q) = %.10q, not its value", key, v)
					}
					if !ok && lease != 0 && r.IntN(2) == 0 {
						err := c.Fill(key, values[i], lease)
						if err != nil && !errors.Is(err, ErrLeaseRevoked) && !errors.Is(err, ErrTooLarge) {
							t.Errorf("Fill(%q) = %v", key, err)
						}
					}
				case n < 75:
					if err := c.Put(key, values[i]); err != nil && !errors.Is(err, ErrTooLarge) {
						t.Errorf("Put(%q) = %v", key, err)
					}
				case n < 90:
					c.Invalidate(key)
				case n < 92:
					c.Clear()
				case n < 95:
					c.Configure(int64(r.IntN(5000)), Policy(r.IntN(len(Policies()))))
				default:
					st := c.Stats()
					if st.Bytes > st.Capacity || st.Hits+st.Misses != st.Gets {
						t.Errorf("inconsistent Stats() = %+v", st)
					}
				}
			}
		})
	}
	wg.Wait()
	c.mu.Lock()
	checkStore(t, &c.store)
	if got := c.leases.len(); got > 16 {
		t.Errorf("lease table holds %d, want <= 16", got)
	}
	for _, i := range c.store.dense {
		k := c.store.entries[i].key
		h := c.store.hash(k)
		for _, s := range c.leases.set(h) {
			if s.lease != 0 && s.hash == h {
				t.Errorf("key %q is resident and has lease %d", k, s.lease)
			}
		}
	}
	c.mu.Unlock()
	st := c.Stats()
	if st.Gets == 0 || st.Puts == 0 || st.Evictions == 0 {
		t.Errorf("Stats() = %+v: the workload did not exercise the cache", st)
	}
}
