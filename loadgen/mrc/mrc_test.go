package mrc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"imgcache/memcache/cache"
	"imgcache/reports/results"
)

// unitKeys names n keys of one byte, so that with values of 9 bytes every item takes 10.
func unitKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = string(rune('a' + i))
	}
	return keys
}

// reads turns "abcab" into reads of those keys, and a capital letter into a write of its key.
func reads(s string) []Request {
	var out []Request
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			out = append(out, Request{Key: uint32(c - 'A'), Write: true})
			continue
		}
		out = append(out, Request{Key: uint32(c - 'a'), Value: 9})
	}
	return out
}

func TestSmallTraces(t *testing.T) {
	for _, tc := range []struct {
		name     string
		trace    string
		capacity int64 // in bytes; every item takes 10
		lru      int64
		belady   int64
	}{
		// Two slots: LRU evicts a before it is read again; MIN evicts c (never read again).
		{"loop beats LRU", "abcabc", 20, 0, 2},
		{"all fit", "abcabc", 30, 3, 3},
		{"repeat", "aaaa", 10, 3, 3},
		// A write invalidates: the read after it misses under every policy.
		{"write invalidates", "aAaa", 30, 1, 1},
		// MIN keeps b rather than a when c comes: b is read again first. LRU keeps b and c.
		{"farthest next use goes", "abcbca", 20, 2, 2},
		{"farthest next use goes, LRU loses", "abcacb", 20, 1, 2},
		// A copy whose next request is a write is worth nothing: MIN does not keep a, and so
		// keeps b for both of its reads, where LRU loses it to a.
		{"doomed copy", "abAbab", 10, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := reads(tc.trace)
			keys := unitKeys(4)
			value := make([]byte, 16)
			lru, err := simulate(context.Background(), tr, keys, value, cache.NewStore(tc.capacity, cache.LRU, 1))
			if err != nil || lru != tc.lru {
				t.Errorf("LRU hits = %d, %v; want %d", lru, err, tc.lru)
			}
			b, err := belady(context.Background(), tr, nextUses(tr, len(keys)), keys, tc.capacity)
			if err != nil || b != tc.belady {
				t.Errorf("Belady hits = %d, %v; want %d", b, err, tc.belady)
			}
		})
	}
}

// zipfTrace draws n requests over keys of sizes spread tenfold, with Zipf popularity of exponent
// 1.1, reads with probability readShare.
func zipfTrace(seed uint64, keys, n int, readShare float64) ([]string, []Request) {
	return skewedTrace(seed, keys, n, readShare, 1.1)
}

// skewedTrace is zipfTrace with the exponent s, which may be below 1.
func skewedTrace(seed uint64, keys, n int, readShare, s float64) ([]string, []Request) {
	rng := rand.New(rand.NewPCG(seed, 1))
	cdf := make([]float64, keys)
	total := 0.0
	for i := range cdf {
		total += math.Pow(float64(i+1), -s)
		cdf[i] = total
	}
	names := make([]string, keys)
	sizes := make([]uint32, keys)
	for i := range names {
		names[i] = fmt.Sprintf("k%05d", i)
		sizes[i] = uint32(1000 + rng.IntN(9000))
	}
	tr := make([]Request, n)
	for i := range tr {
		k, _ := slices.BinarySearch(cdf, rng.Float64()*total)
		k = min(k, keys-1)
		if rng.Float64() < readShare {
			tr[i] = Request{Key: uint32(k), Value: sizes[k]}
		} else {
			tr[i] = Request{Key: uint32(k), Write: true}
		}
	}
	return names, tr
}

// The infinite cache's hit rate is the bound: on Zipf traces with writes and sizes that differ,
// no curve passes it at any size, and all meet it once everything fits. MIN is only a reference
// with sizes that differ (TestBeladyIsNoBound), but on such traces it stays near the best policy.
func TestCeilingBounds(t *testing.T) {
	for _, share := range []float64{0.2, 0.5, 0.95} {
		t.Run(fmt.Sprintf("reads %.0f%%", 100*share), func(t *testing.T) {
			keys, tr := zipfTrace(7, 300, 30000, share)
			m, err := Compute(context.Background(), Input{Keys: keys, Traces: [][]Request{tr, tr[:10000]}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			bel, ok := m.Curve(results.CurveBelady)
			if !ok {
				t.Fatal("no belady curve")
			}
			if m.Ceiling <= 0 {
				t.Fatalf("ceiling %v", m.Ceiling)
			}
			for _, c := range m.Curves {
				for s := range m.Sizes {
					if c.HitRates[s] > m.Ceiling+1e-12 {
						t.Errorf("%s at %.1f%%: %.4f above the ceiling %.4f", c.Policy, 100*m.Fractions[s], c.HitRates[s], m.Ceiling)
					}
					if c.HitRates[s] > bel.HitRates[s]+0.01 {
						t.Errorf("%s at %.1f%%: %.4f, more than a point above MIN's %.4f", c.Policy, 100*m.Fractions[s], c.HitRates[s], bel.HitRates[s])
					}
				}
				last := len(m.Sizes) - 1
				if m.Fractions[last] != 1 || math.Abs(c.HitRates[last]-m.Ceiling) > 1e-12 {
					t.Errorf("%s at 100%%: %.4f, ceiling %.4f; want equal", c.Policy, c.HitRates[last], m.Ceiling)
				}
			}
			// The ceiling under invalidation: the read share, less cold misses.
			if m.Ceiling > share+0.02 || m.Ceiling < share-0.1 {
				t.Errorf("ceiling = %.3f, want just under the read share %.2f", m.Ceiling, share)
			}
			if !slices.IsSorted(bel.HitRates) {
				t.Errorf("belady's curve falls somewhere: %v", bel.HitRates)
			}
		})
	}
}

// counterexample is a 16-request trace over three objects of 27, 5 and 23 bytes (a one-byte key
// and its value) at a capacity of 38, on which MIN as it was (evicting in order of next use until
// the new object fits, the small copies evicted first included) hit 10 times and S3-FIFO 11.
func counterexample() (keys []string, tr []Request, capacity int64) {
	keys = []string{"a", "b", "c"}
	values := []uint32{26, 4, 22}
	for _, k := range []int{2, 2, 1, 2, 1, 1, 0, 1, 1, 0, 0, 2, 2, 0, 1, 0} {
		tr = append(tr, Request{Key: uint32(k), Value: values[k]})
	}
	return keys, tr, 38
}

// MIN keeps every copy that still fits beside the one it admits: the 12th request admits c (23)
// beside a (27) and b (5), which evicts b, used latest, then a; b fits again once a is gone, and
// keeping it wins the hit of the 15th request.
func TestBeladyKeepsWhatFits(t *testing.T) {
	keys, tr, capacity := counterexample()
	got, err := belady(context.Background(), tr, nextUses(tr, len(keys)), keys, capacity)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(11); got != want {
		t.Errorf("MIN hits %d, want %d", got, want)
	}
}

// With sizes that differ, MIN is no bound: the infinite cache's ceiling is, and on the
// counterexample an online policy matches or beats MIN's old count.
func TestBeladyIsNoBound(t *testing.T) {
	keys, tr, capacity := counterexample()
	if got, want := ceiling(tr, len(keys)), int64(13); got != want {
		t.Errorf("ceiling %d hits, want %d", got, want)
	}
	value := make([]byte, 32)
	for _, p := range Policies() {
		h, err := simulate(context.Background(), tr, keys, value, cache.NewStore(capacity, p, 1))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d hits", p, h)
		if h > ceiling(tr, len(keys)) {
			t.Errorf("%s: %d hits, above the ceiling", p, h)
		}
	}
}

func TestComputeShape(t *testing.T) {
	keys, tr := zipfTrace(3, 200, 5000, 0.8)
	in := Input{Mix: results.Mix{Reads: 80, Writes: 20}, Keys: keys, Traces: [][]Request{tr}, Extra: []int64{123456}}
	m, err := Compute(context.Background(), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Sizes) != DefaultPoints+1 || !slices.Contains(m.Sizes, 123456) || !slices.IsSorted(m.Sizes) {
		t.Errorf("sizes %v: want %d grid points and the extra size, rising", m.Sizes, DefaultPoints)
	}
	if math.Abs(m.Fractions[0]-DefaultMinFraction) > 1e-3 || m.Fractions[len(m.Fractions)-1] != 1 {
		t.Errorf("fractions from %g to %g, want 1%% to 100%%", m.Fractions[0], m.Fractions[len(m.Fractions)-1])
	}
	var want []string
	for _, p := range Policies() {
		want = append(want, Name(p))
	}
	want = append(want, results.CurveBelady)
	var got []string
	for _, c := range m.Curves {
		got = append(got, c.Policy)
		if len(c.HitRates) != len(m.Sizes) {
			t.Errorf("%s: %d hit rates for %d sizes", c.Policy, len(c.HitRates), len(m.Sizes))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("curves %q, want one per policy of Policies() and belady: %q", got, want)
	}
	if m.Requests != 5000 || m.Reads < 3800 || m.Reads > 4200 || m.SampleRate != 1 || m.Keys < 100 {
		t.Errorf("counted %d requests, %d reads, %d keys, sample rate %g", m.Requests, m.Reads, m.Keys, m.SampleRate)
	}
	if m.Mix != in.Mix || m.Traces != 1 {
		t.Errorf("mix %v, traces %d", m.Mix, m.Traces)
	}
}

// Every policy in the list gets a curve: a list of three (Random twice, under another seed)
// gives three curves and belady, with no other change.
func TestComputePolicyList(t *testing.T) {
	keys, tr := zipfTrace(3, 50, 2000, 0.8)
	m, err := Compute(context.Background(), Input{Keys: keys, Traces: [][]Request{tr}},
		Options{Policies: []cache.Policy{cache.LRU, cache.Random, cache.LRU}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Curves) != 4 {
		t.Errorf("%d curves for three policies, want 4", len(m.Curves))
	}
}

// SHARDS: above the exact limit, with many keys, a sample of the keys gives nearly the curve the
// whole trace gives. (Under heavy skew a few keys carry much of the traffic, and whether the
// sample holds them moves the curve: one more reason to simulate exactly whenever possible.)
func TestShards(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a long trace")
	}
	keys, tr := skewedTrace(11, 40000, 400000, 0.9, 0.7)
	in := Input{Keys: keys, Traces: [][]Request{tr}}
	exact, err := Compute(context.Background(), in, Options{Points: 8})
	if err != nil {
		t.Fatal(err)
	}
	sampled, err := Compute(context.Background(), in, Options{Points: 8, ExactLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if exact.SampleRate != 1 || sampled.SampleRate != 0.25 {
		t.Fatalf("sample rates %g and %g, want 1 and 0.25", exact.SampleRate, sampled.SampleRate)
	}
	for c := range exact.Curves {
		for s := range exact.Sizes {
			if d := math.Abs(exact.Curves[c].HitRates[s] - sampled.Curves[c].HitRates[s]); d > 0.03 {
				t.Errorf("%s at %.0f%%: exact %.3f, sampled %.3f", exact.Curves[c].Policy, 100*exact.Fractions[s],
					exact.Curves[c].HitRates[s], sampled.Curves[c].HitRates[s])
			}
		}
	}
	// Few keys: always exact, however long.
	fewKeys, fewTr := zipfTrace(11, 100, 200000, 0.9)
	m, err := Compute(context.Background(), Input{Keys: fewKeys, Traces: [][]Request{fewTr}}, Options{Points: 4, ExactLimit: 1000})
	if err != nil || m.SampleRate != 1 {
		t.Errorf("100 keys over the limit: sample rate %g, %v; want exact", m.SampleRate, err)
	}
}

func TestComputeErrors(t *testing.T) {
	keys, tr := zipfTrace(3, 50, 300000, 0.8)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compute(ctx, Input{Keys: keys, Traces: [][]Request{tr}}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v, want context.Canceled", err)
	}
	if _, err := Compute(context.Background(), Input{Keys: keys[:10], Traces: [][]Request{tr}}, Options{}); !errors.Is(err, results.ErrBadConfig) {
		t.Errorf("key out of range: error %v, want ErrBadConfig", err)
	}
	m, err := Compute(context.Background(), Input{Keys: keys, Traces: [][]Request{{{Key: 1, Write: true}}}}, Options{})
	if err != nil || len(m.Curves) != 0 || m.Requests != 1 {
		t.Errorf("writes only: %+v, %v; want no curves", m, err)
	}
}

func TestRecorder(t *testing.T) {
	r := NewRecorder(2)
	for i := range 3 {
		r.Add(Request{Key: uint32(i)})
	}
	if got := r.Requests(); len(got) != 2 || got[1].Key != 1 || !r.Truncated() {
		t.Errorf("recorded %v, truncated %v; want the first 2, truncated", got, r.Truncated())
	}
}

// BenchmarkCompute replays a trace the size of one mix of make bench (nine series of 40,000
// requests over 200 keys) at 21 sizes through both policies and Belady.
func BenchmarkCompute(b *testing.B) {
	keys, tr := zipfTrace(5, 200, 40000, 0.5)
	traces := make([][]Request, 9)
	for i := range traces {
		traces[i] = tr
	}
	for b.Loop() {
		if _, err := Compute(context.Background(), Input{Keys: keys, Traces: traces}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
