package cache

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	lru "github.com/hashicorp/golang-lru/v2"
)

// The benchmark workload: 10,000 keys with 1-4 KB values, Zipf-distributed
// popularity, 80% gets and 20% puts. The op sequence is generated once, so the
// random generators are not measured.
const (
	benchKeys  = 10000
	benchOps   = 1 << 20
	benchZipfS = 1.1
)

type benchOp struct {
	key int32
	put bool
}

type benchWorkload struct {
	keys   []string
	values [][]byte
	ops    []benchOp
	bytes  int64 // the working set: sum of len(key)+len(value)
}

var loadWorkload = sync.OnceValue(func() *benchWorkload {
	r := rand.New(rand.NewPCG(2024, 1))
	w := &benchWorkload{
		keys:   make([]string, benchKeys),
		values: make([][]byte, benchKeys),
		ops:    make([]benchOp, benchOps),
	}
	// Ranks are shuffled over keys so popularity is not tied to key order.
	perm := r.Perm(benchKeys)
	for i := range benchKeys {
		w.keys[i] = fmt.Sprintf("images/%08x.jpg", perm[i]*2654435761)
		w.values[i] = make([]byte, 1024+r.IntN(3*1024+1))
		for j := range w.values[i] {
			w.values[i][j] = byte(r.Uint32())
		}
		w.bytes += int64(len(w.keys[i]) + len(w.values[i]))
	}
	z := rand.NewZipf(r, benchZipfS, 1, benchKeys-1)
	for i := range w.ops {
		w.ops[i] = benchOp{key: int32(z.Uint64()), put: r.IntN(100) < 20}
	}
	return w
})

// benchTarget is the common face of the caches under comparison.
type benchTarget interface {
	get(key string) bool
	put(key string, value []byte)
}

type ourCache struct{ c *Cache }

func (t ourCache) get(key string) bool {
	_, _, ok := t.c.Get(key)
	return ok
}
func (t ourCache) put(key string, value []byte) { t.c.Put(key, value) }

type hashicorpLRU struct{ c *lru.Cache[string, []byte] }

func (t hashicorpLRU) get(key string) bool {
	_, ok := t.c.Get(key)
	return ok
}
func (t hashicorpLRU) put(key string, value []byte) { t.c.Add(key, value) }

var (
	_ benchTarget = ourCache{}
	_ benchTarget = hashicorpLRU{}
)

// benchName is a policy's short name, for sub-benchmark names without spaces.
func benchName(p Policy) string {
	switch p {
	case LRU:
		return "LRU"
	case Random:
		return "Random"
	}
	return p.String()
}

// benchTargets lists constructors of the caches under comparison, each sized
// to a quarter of the working set: in bytes for ours, in entries for
// golang-lru, which cannot bound bytes. Each sub-benchmark builds its own, so
// no cache is live while another is measured.
func benchTargets(w *benchWorkload) []struct {
	name string
	new  func() benchTarget
} {
	var targets []struct {
		name string
		new  func() benchTarget
	}
	for _, p := range Policies() {
		targets = append(targets, struct {
			name string
			new  func() benchTarget
		}{"cache=" + benchName(p), func() benchTarget {
			return ourCache{New(Config{Capacity: w.bytes / 4, Policy: p, Seed: 1})}
		}})
	}
	return append(targets, []struct {
		name string
		new  func() benchTarget
	}{
		{"cache=golang-lru", func() benchTarget {
			c, err := lru.New[string, []byte](benchKeys / 4)
			if err != nil {
				panic(err)
			}
			return hashicorpLRU{c}
		}},
	}...)
}

// BenchmarkZipf8020 runs the 80:20 get:put Zipf workload from all goroutines
// at once (use -cpu 2). Each goroutine walks the shared op sequence from its
// own starting point. ops/s counts the operations of all goroutines together;
// hit% is the hit rate of the gets.
func BenchmarkZipf8020(b *testing.B) {
	w := loadWorkload()
	for _, tc := range benchTargets(w) {
		b.Run(tc.name, func(b *testing.B) {
			t := tc.new()
			// Warm up to the steady state before measuring.
			for _, op := range w.ops[:benchOps/4] {
				if op.put || !t.get(w.keys[op.key]) {
					t.put(w.keys[op.key], w.values[op.key])
				}
			}
			runtime.GC()
			var start atomic.Uint64
			var gets, hits atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(start.Add(1)*benchOps/7) % benchOps
				var g, h int64
				for pb.Next() {
					op := w.ops[i]
					if i++; i == benchOps {
						i = 0
					}
					if op.put {
						t.put(w.keys[op.key], w.values[op.key])
						continue
					}
					g++
					if t.get(w.keys[op.key]) {
						h++
					}
				}
				gets.Add(g)
				hits.Add(h)
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			if g := gets.Load(); g > 0 {
				b.ReportMetric(100*float64(hits.Load())/float64(g), "hit%")
			}
		})
	}
}

// BenchmarkGetHit measures a Get that hits, over 1,000 resident keys.
func BenchmarkGetHit(b *testing.B) {
	w := loadWorkload()
	keys := w.keys[:1000]
	for _, tc := range benchTargets(w) {
		b.Run(tc.name, func(b *testing.B) {
			t := tc.new()
			for i, k := range keys {
				t.put(k, w.values[i][:64])
			}
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if !t.get(keys[i]) {
					b.Fatalf("Get(%q) missed", keys[i])
				}
				if i++; i == len(keys) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkStoreZipf8020 runs the same workload on the single-threaded Store,
// without lock, leases or counters. One goroutine walks the op sequence in
// order, so hit% depends only on the policy and b.N.
func BenchmarkStoreZipf8020(b *testing.B) {
	w := loadWorkload()
	for _, p := range Policies() {
		b.Run("store="+benchName(p), func(b *testing.B) {
			s := NewStore(w.bytes/4, p, 1)
			var gets, hits int
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				op := w.ops[i]
				if i++; i == benchOps {
					i = 0
				}
				if op.put {
					s.Put(w.keys[op.key], w.values[op.key])
					continue
				}
				gets++
				if _, ok := s.Get(w.keys[op.key]); ok {
					hits++
				}
			}
			if gets > 0 {
				b.ReportMetric(100*float64(hits)/float64(gets), "hit%")
			}
		})
	}
}
