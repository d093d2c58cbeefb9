// Package mrc computes miss-ratio curves, told as hit rate against cache size, by replaying key
// traces through the memcache's own store and through Belady's offline MIN (a reference), with
// the infinite cache's hit rate as their bound.
package mrc

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"imgcache/memcache/cache"
	"imgcache/memcache/wire"
	"imgcache/reports/results"
)

// Policies returns the memcache policies that every set of curves covers, in drawing order:
// all of memcache/cache's, so a policy added there shows in every curve.
func Policies() []cache.Policy { return cache.Policies() }

// Name returns the name a curve of p carries: the short name the run matrix gives its series
// (so that a live point finds its curve), else the policy's stored name.
func Name(p cache.Policy) string {
	if info, err := wire.ParsePolicy(p.String()); err == nil {
		return info.Short
	}
	return p.String()
}

// Request is one request of a trace.
type Request struct {
	Key uint32 // index into Input.Keys
	// Value is, for a read, the size of the value that a miss would fill the cache with, as the
	// cache counts it (the image's base64); a write carries none.
	Value uint32
	// Write invalidates the key: the backend drops it from the cache on an upload and does not
	// put the new image there.
	Write bool
}

// Recorder collects the requests of one trace up to a limit. It is not safe for concurrent use.
type Recorder struct {
	reqs      []Request
	limit     int
	truncated bool
}

// NewRecorder returns a recorder that keeps at most limit requests.
func NewRecorder(limit int) *Recorder { return &Recorder{limit: limit} }

// Add records r, unless the limit is reached.
func (r *Recorder) Add(req Request) {
	if len(r.reqs) >= r.limit {
		r.truncated = true
		return
	}
	r.reqs = append(r.reqs, req)
}

// Requests returns the requests recorded, in order.
func (r *Recorder) Requests() []Request { return r.reqs }

// Truncated reports whether requests were left out past the limit.
func (r *Recorder) Truncated() bool { return r.truncated }

// Defaults of Options.
const (
	DefaultPoints      = 20
	DefaultMinFraction = 0.01
	// DefaultExactLimit is the number of requests (all traces of a mix together) up to which the
	// simulation is exact. A make bench run sends about a million.
	DefaultExactLimit = 50_000_000
	// MinSampledKeys: SHARDS keeps a share of the keys, which only estimates well when many
	// remain, so traces over fewer distinct keys are always simulated exactly.
	MinSampledKeys = 10_000
	// MinSampleRate bounds how few keys SHARDS keeps.
	MinSampleRate = 0.001
)

// Options tune Compute. The zero value means the defaults.
type Options struct {
	Points      int     // sizes from MinFraction to 1 of the data, spaced evenly on a log scale
	MinFraction float64 // the smallest size as a share of the data
	ExactLimit  int64   // requests above which SHARDS sampling is used, if the keys are many
	Workers     int     // simulations at once; 0 means GOMAXPROCS
	Seed        uint64  // of the Random policy's choices
	// Policies are the memcache policies simulated besides Belady's; nil means Policies().
	Policies []cache.Policy
}

// Input is what a mix's curves are computed from.
type Input struct {
	Mix    results.Mix
	Keys   []string    // key names by index: their length counts in the cache's size
	Traces [][]Request // each replayed from an empty cache, as the run cleared it before each series
	// Truncated says a trace was cut short when recorded.
	Truncated bool
	// Extra are cache sizes in bytes to simulate besides the grid: the live run's capacity, so
	// that its measured hit rates sit on the curves.
	Extra []int64
}

// Compute replays every trace of in through each policy and Belady's MIN at each size and
// returns the hit rates: hits over reads, summed over the traces, and the infinite cache's hit
// rate, which bounds them all. Simulations run in parallel.
func Compute(ctx context.Context, in Input, opt Options) (results.MRC, error) {
	if opt.Points == 0 {
		opt.Points = DefaultPoints
	}
	if opt.MinFraction == 0 {
		opt.MinFraction = DefaultMinFraction
	}
	if opt.ExactLimit == 0 {
		opt.ExactLimit = DefaultExactLimit
	}
	if opt.Workers == 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Policies == nil {
		opt.Policies = Policies()
	}
	if opt.Points < 2 || opt.MinFraction <= 0 || opt.MinFraction >= 1 {
		return results.MRC{}, fmt.Errorf("mrc: %d points from %g: %w", opt.Points, opt.MinFraction, results.ErrBadConfig)
	}
	out := results.MRC{Mix: in.Mix, Traces: len(in.Traces), Truncated: in.Truncated, SampleRate: 1}

	// The data: every key read, at the largest size a fill would store for it.
	largest := make([]int64, len(in.Keys))
	for _, tr := range in.Traces {
		for _, r := range tr {
			if int(r.Key) >= len(in.Keys) {
				return results.MRC{}, fmt.Errorf("mrc: key %d of %d: %w", r.Key, len(in.Keys), results.ErrBadConfig)
			}
			out.Requests++
			if !r.Write {
				out.Reads++
				largest[r.Key] = max(largest[r.Key], int64(len(in.Keys[r.Key]))+int64(r.Value))
			}
		}
	}
	var maxValue uint32
	for k, n := range largest {
		if n > 0 {
			out.Keys++
			out.DataBytes += n
			maxValue = max(maxValue, uint32(n-int64(len(in.Keys[k]))))
		}
	}
	if out.Reads == 0 || out.DataBytes == 0 {
		return out, nil // nothing to hit
	}

	for i := range opt.Points {
		f := opt.MinFraction * math.Pow(1/opt.MinFraction, float64(i)/float64(opt.Points-1))
		out.Sizes = append(out.Sizes, int64(math.Round(f*float64(out.DataBytes))))
	}
	for _, e := range in.Extra {
		if e > 0 {
			out.Sizes = append(out.Sizes, e)
		}
	}
	slices.Sort(out.Sizes)
	out.Sizes = slices.Compact(out.Sizes)
	for _, s := range out.Sizes {
		out.Fractions = append(out.Fractions, float64(s)/float64(out.DataBytes))
	}

	traces := in.Traces
	if out.Requests > opt.ExactLimit && out.Keys >= MinSampledKeys {
		out.SampleRate = max(float64(opt.ExactLimit)/float64(out.Requests), MinSampleRate)
		traces = sample(in.Keys, traces, out.SampleRate)
	}

	names := make([]string, 0, len(opt.Policies)+1)
	for _, p := range opt.Policies {
		names = append(names, Name(p))
	}
	names = append(names, results.CurveBelady)
	hits := make([][][]int64, len(names)) // by curve, size, trace
	for c := range hits {
		hits[c] = make([][]int64, len(out.Sizes))
		for s := range hits[c] {
			hits[c][s] = make([]int64, len(traces))
		}
	}
	reads := make([]int64, len(traces))
	value := make([]byte, maxValue) // every fill stores a slice of it: the store keeps, never writes, values

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Workers)
	next := make([][]int32, len(traces))
	for t, tr := range traces {
		g.Go(func() error {
			next[t] = nextUses(tr, len(in.Keys))
			for _, r := range tr {
				if !r.Write {
					reads[t]++
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return results.MRC{}, err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(opt.Workers)
	for s, size := range out.Sizes {
		capacity := int64(math.Round(float64(size) * out.SampleRate))
		for t, tr := range traces {
			for c, p := range opt.Policies {
				g.Go(func() error {
					h, err := simulate(gctx, tr, in.Keys, value, cache.NewStore(capacity, p, opt.Seed))
					hits[c][s][t] = h
					return err
				})
			}
			g.Go(func() error {
				h, err := belady(gctx, tr, next[t], in.Keys, capacity)
				hits[len(names)-1][s][t] = h
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return results.MRC{}, err
	}
	var allReads, ceilHits int64
	for t, n := range reads {
		allReads += n
		ceilHits += ceiling(traces[t], len(in.Keys))
	}
	if allReads > 0 {
		out.Ceiling = float64(ceilHits) / float64(allReads)
	}
	for c, name := range names {
		curve := results.Curve{Policy: name, HitRates: make([]float64, len(out.Sizes))}
		for s := range out.Sizes {
			var h int64
			for _, n := range hits[c][s] {
				h += n
			}
			if allReads > 0 {
				curve.HitRates[s] = float64(h) / float64(allReads)
			}
		}
		out.Curves = append(out.Curves, curve)
	}
	return out, nil
}

// checkEvery is how many requests a simulation replays between looks at its context.
const checkEvery = 1 << 16

// simulate replays tr through st as the services would: a read is a Get, and a miss fills the
// key (a value too large for the cache is refused, as the memcache refuses it); a write removes
// the key. It returns the hits.
func simulate(ctx context.Context, tr []Request, keys []string, value []byte, st *cache.Store) (int64, error) {
	var hits int64
	for i, r := range tr {
		if i%checkEvery == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		key := keys[r.Key]
		if r.Write {
			st.Remove(key)
			continue
		}
		if _, ok := st.Get(key); ok {
			hits++
			continue
		}
		_, _ = st.Put(key, value[:r.Value]) // ErrTooLarge: not cached, as in the service
	}
	return hits, nil
}

// fmix64 is MurmurHash3's finalizer. FNV alone spreads keys that differ only in their last
// characters, such as numbered keys, poorly: without it, neighbouring keys are kept or left
// together, and with Zipf keys numbered by popularity the sample is all hot or all cold.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// sample keeps the requests of a share rate of the keys, chosen by a hash of the key (SHARDS,
// Waldspurger et al., FAST '15): every request of a kept key stays, so each key's reuse pattern
// is intact, and a cache of rate times the size sees the same hit rate.
func sample(keys []string, traces [][]Request, rate float64) [][]Request {
	const bits = 24
	threshold := uint64(rate * (1 << bits))
	keep := make([]bool, len(keys))
	for i, k := range keys {
		h := fnv.New64a()
		_, _ = h.Write([]byte(k))
		keep[i] = fmix64(h.Sum64())>>(64-bits) < threshold
	}
	out := make([][]Request, len(traces))
	for t, tr := range traces {
		for _, r := range tr {
			if keep[r.Key] {
				out[t] = append(out[t], r)
			}
		}
	}
	return out
}
