package livemrc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"imgcache/memcache/cache"
)

// zipfKeys draws n keys among keys of Zipf popularity (s = 0.9), each of size bytes with its key.
func zipfKeys(seed uint64, keys, n int) []string {
	rng := rand.New(rand.NewPCG(seed, 3))
	cdf := make([]float64, keys)
	total := 0.0
	for r := range cdf {
		total += math.Pow(float64(r+1), -0.9)
		cdf[r] = total
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("key-%06d", sort.SearchFloat64s(cdf, rng.Float64()*total))
	}
	return out
}

// exact replays the trace through a full-size store: every request is a lookup, a miss fills.
func exact(trace []string, size int64, p cache.Policy, capacity int64) float64 {
	st := cache.NewStore(capacity, p, 1)
	value := make([]byte, size)
	hits := 0
	for _, k := range trace {
		if _, ok := st.Get(k); ok {
			hits++
			continue
		}
		_, _ = st.Put(k, value[:size-int64(len(k))])
	}
	return float64(hits) / float64(len(trace))
}

func play(tr *Tracker, trace []string, size int64) {
	for i, k := range trace {
		tr.Access(k, size)
		// Keep the queue from overflowing (this test wants every access), and bound how many
		// accesses pass the request path's copy of the sampling threshold before the simulations
		// lower it: how far the two drift apart otherwise depends on the machine's load.
		if i%100 == 99 {
			tr.Flush()
		}
	}
	tr.Flush()
}

// TestSmallKeySetIsSampledWhole: under MaxKeys keys the rate stays 1 and the estimate is the
// exact simulation's hit rate.
func TestSmallKeySetIsSampledWhole(t *testing.T) {
	const size, capacity = 1000, 100_000 // a hundred entries
	trace := zipfKeys(1, 1000, 30_000)
	tr := New(capacity, Config{MaxKeys: 2000})
	defer tr.Close()
	play(tr, trace, size)
	snap := tr.Snapshot()
	if snap.Rate != 1 || snap.Accesses != uint64(len(trace)) || snap.Dropped != 0 {
		t.Fatalf("rate %g, %d accesses (%d dropped), want 1 and all %d", snap.Rate, snap.Accesses, snap.Dropped, len(trace))
	}
	for p, pol := range cache.Policies() {
		if pol == cache.Random {
			continue // its draws differ from the exact replay's
		}
		for s, scale := range DefaultScales() {
			want := exact(trace, size, pol, int64(scale*capacity))
			if got := snap.Curves[p].Points[s].HitRate; math.Abs(got-want) > 1e-12 {
				t.Errorf("%v at x%g: hit rate %.4f, exact %.4f", pol, scale, got, want)
			}
		}
	}
}

// TestSampledEstimate: over more keys than MaxKeys the rate falls, the memory stays bounded, and
// the estimate is unbiased: averaged over independent trackers (each samples other keys) it is
// within a few points of the exact curve (a point or two in most runs). One tracker's estimate varies by several points with
// the hot keys its sample happens to hold.
func TestSampledEstimate(t *testing.T) {
	const size, capacity, runs = 1000, 1_000_000, 8 // 1,000 entries of 10,000 keys
	trace := zipfKeys(2, 10_000, 300_000)
	policies := []cache.Policy{cache.LRU, cache.SIEVE}
	mean := make([][]float64, len(policies))
	for p := range mean {
		mean[p] = make([]float64, len(DefaultScales()))
	}
	for range runs {
		tr := New(capacity, Config{Policies: policies})
		play(tr, trace, size)
		snap := tr.Snapshot()
		tr.Close()
		if snap.Keys > DefaultMaxKeys || snap.Rate >= 0.6 || snap.Rate <= 0 {
			t.Fatalf("%d keys sampled at rate %g, want at most DefaultMaxKeys at a rate well under 1", snap.Keys, snap.Rate)
		}
		for p := range policies {
			for s := range DefaultScales() {
				mean[p][s] += snap.Curves[p].Points[s].HitRate / runs
			}
		}
	}
	for p, pol := range policies {
		for s, scale := range DefaultScales() {
			want := exact(trace, size, pol, int64(scale*capacity))
			if got := mean[p][s]; math.Abs(got-want) > 0.05 {
				t.Errorf("%v at x%g: mean estimated hit rate %.4f, exact %.4f", pol, scale, got, want)
			}
		}
	}
}

func TestResetAndClose(t *testing.T) {
	tr := New(1000, Config{})
	tr.Access("a", 10)
	tr.Flush()
	tr.SetCapacity(5000)
	tr.Flush()
	// The reset may be applied before or after the flush's marker; wait until it is.
	for tr.Snapshot().Capacity != 5000 {
		tr.Flush()
	}
	if s := tr.Snapshot(); s.Accesses != 0 || s.Curves[0].Points[3].Bytes != 5000 {
		t.Errorf("after SetCapacity: %+v", s)
	}
	tr.Close()
	tr.Close()
	tr.Flush() // returns once closed
	tr.Access("b", 10)
}

// BenchmarkAccess is the request path's cost: a hash and an atomic load for a key left out of the
// sample, a copy and a channel send for a sampled one.
func BenchmarkAccess(b *testing.B) {
	tr := New(10<<20, Config{})
	defer tr.Close()
	keys := zipfKeys(3, 100_000, 1<<16)
	i := 0
	for b.Loop() {
		tr.Access(keys[i&(1<<16-1)], 50_000)
		i++
	}
}
