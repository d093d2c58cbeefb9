package loadgen

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"imgcache/loadgen/mrc"
	"imgcache/reports/results"
)

// Rates returns the offered rates of a sweep: from start, times factor each step, up to max,
// rounded to whole requests a second.
func Rates(start, factor, maxRate float64) []float64 {
	var out []float64
	for r := start; r <= maxRate*(1+1e-9) && len(out) < 64; r *= factor {
		v := math.Round(r)
		if len(out) == 0 || v > out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// NextProbe returns the rate that the search tries between lo (served) and hi (saturated): their
// geometric mean, which halves the interval's ratio, rounded to a whole rate. It returns false
// when the interval is within resolution ((hi-lo)/lo <= resolution) or has no whole rate inside.
func NextProbe(lo, hi, resolution float64) (float64, bool) {
	if lo <= 0 || hi <= lo || (hi-lo)/lo <= resolution {
		return 0, false
	}
	mid := math.Round(math.Sqrt(lo * hi))
	if mid <= lo || mid >= hi {
		return 0, false
	}
	return mid, true
}

// Run runs the matrix: Repeat rounds, each running every cell (a mix and a policy) once, in
// forward order in even rounds and backward in odd ones, so that drift on the machine meets every
// cell alike. A cell's run sets the cache, uploads the data set, clears the cache, offers rising
// rates until a step saturates, then bisects between the last rate served and the first that
// saturated. At the end it computes the miss-ratio curves of each mix from the keys sent. It
// returns what was measured even when it fails or ctx ends early, together with the error.
func Run(ctx context.Context, cfg Config) (*results.Results, error) {
	cfg = cfg.withDefaults()
	res := &results.Results{Version: results.Version, Started: time.Now().UTC(), Machine: cfg.Machine, Command: cfg.Command}
	fail := func(err error) (*results.Results, error) {
		res.Finished = time.Now().UTC()
		res.Error = err.Error()
		return res, err
	}
	if err := cfg.validate(); err != nil {
		return fail(err)
	}
	policies := make([]string, len(cfg.Policies))
	for i, p := range cfg.Policies {
		policies[i], _ = NormalizePolicy(p)
	}
	log := cfg.Logger

	t0 := time.Now()
	ds, err := NewDataset(cfg.Dataset)
	if err != nil {
		return fail(err)
	}
	res.Dataset = ds.Info()
	capMB := cfg.CapacityMB
	if capMB == 0 {
		capMB = CapacityFor(res.Dataset, cfg.CacheFraction)
	}
	w, err := NewWorkloadOn(cfg.BackendURLs, ds, cfg.Versions, cfg.WriteKeys == WriteKeysNew && cfg.Trace == nil)
	if err != nil {
		return fail(err)
	}
	var pop *Popularity
	var popName string
	if cfg.Trace != nil {
		popName = fmt.Sprintf("trace %s (%d requests, %d keys)", cfg.TraceName, len(cfg.Trace.Requests), len(cfg.Trace.Keys))
	} else {
		if pop, err = NewPopularity(cfg.Popularity, len(ds.Images), cfg.ZipfS, cfg.Dataset.Seed); err != nil {
			return fail(err)
		}
		popName = pop.String()
	}
	log.Info("data set ready", "images", res.Dataset.Images, "bytes", res.Dataset.Bytes,
		"median", res.Dataset.MedianBytes, "cache_mb", capMB, "took", time.Since(t0).Round(time.Millisecond))

	writeKeys := cfg.WriteKeys
	if cfg.Trace != nil {
		writeKeys = "as the trace"
	}
	res.Params = results.Params{
		Quick: cfg.Quick, Target: strings.Join(cfg.BackendURLs, ","), Memcache: strings.Join(cfg.MemcacheURLs, ","), Managed: cfg.Managed,
		Storage: cfg.Storage, StorageModel: cfg.StorageModel, Pinned: cfg.Pinned, Backends: len(cfg.BackendURLs), Nodes: cfg.Nodes,
		Workload: cfg.Workload, Popularity: popName, WriteKeys: writeKeys, Seed: cfg.Dataset.Seed,
		Mixes: cfg.Mixes, Policies: policies, Repeat: cfg.Repeat,
		CacheFraction: cfg.CacheFraction, CapacityMB: capMB,
		StartRate: cfg.StartRate, RateFactor: cfg.RateFactor, MaxRate: cfg.MaxRate,
		Resolution: cfg.Resolution, SearchSteps: max(cfg.SearchSteps, 0),
		Warmup: cfg.Warmup, Duration: cfg.Duration, Timeout: cfg.Timeout, MaxWorkers: cfg.MaxWorkers,
		Limits: cfg.Limits, HeavyLoad: cfg.HeavyLoad,
	}
	if cfg.VegetaDir != "" {
		if err := os.MkdirAll(cfg.VegetaDir, 0o755); err != nil {
			return fail(err)
		}
	}

	ctl := &Control{BackendURL: cfg.BackendURL, MemcacheURLs: cfg.MemcacheURLs, Secret: cfg.MemcacheSecret}
	if err := ctl.Healthy(ctx); err != nil {
		return fail(err)
	}
	for _, u := range cfg.BackendURLs[1:] {
		if err := (&Control{BackendURL: u}).Healthy(ctx); err != nil {
			return fail(err)
		}
	}
	// Put a running deployment's cache back as it was found.
	if orig, err := ctl.Stats(ctx); err == nil && !cfg.Managed {
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			policy, err := NormalizePolicy(orig.Policy)
			if err != nil {
				policy = orig.Policy
			}
			if err := ctl.SetCache(rctx, int(orig.CapacityMB), policy); err != nil {
				log.Warn("could not restore the cache configuration", "err", err)
			}
		}()
	}

	type cell struct {
		mix    results.Mix
		policy string
	}
	var cells []cell
	for _, mix := range cfg.Mixes {
		for _, p := range policies {
			cells = append(cells, cell{mix, p})
		}
	}
	rates := Rates(cfg.StartRate, cfg.RateFactor, cfg.MaxRate)
	prog := newProgress(cfg.Progress, len(cells)*cfg.Repeat, len(rates)+max(cfg.SearchSteps, 0), cfg.Warmup+cfg.Duration)
	r := &runner{cfg: cfg, ctl: ctl, w: w, pop: pop, rates: rates, prog: prog, traces: map[results.Mix][][]mrc.Request{}, sustained: map[string][]float64{}}
	for rep := range cfg.Repeat {
		order := slices.Clone(cells)
		if rep%2 == 1 {
			slices.Reverse(order)
		}
		for _, c := range order {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			s := results.Series{Mix: c.mix, Policy: c.policy, Repeat: rep, CapacityMB: capMB, Seed: cfg.Dataset.Seed + uint64(rep)}
			if c.policy == results.PolicyOff {
				s.CapacityMB = 0
			}
			err := r.series(ctx, &s)
			if err != nil && ctx.Err() != nil && len(s.Steps) == 0 {
				return fail(err) // interrupted before it measured anything
			}
			if err != nil {
				s.Error = err.Error()
			}
			res.Series = append(res.Series, s)
			if err != nil {
				return fail(err)
			}
		}
	}
	prog.done()

	if cfg.TraceRecord > 0 {
		t := time.Now()
		for _, mix := range cfg.Mixes {
			in := mrc.Input{Mix: mix, Keys: w.Names(), Traces: r.traces[mix], Truncated: r.truncated, Extra: []int64{res.Params.PoolBytes(capMB)}}
			m, err := mrc.Compute(ctx, in, mrc.Options{Seed: cfg.Dataset.Seed})
			if err != nil {
				return fail(fmt.Errorf("miss-ratio curves of %s: %w", mix, err))
			}
			res.MRC = append(res.MRC, m)
		}
		res.MRCTime = time.Since(t)
		prog.printf("miss-ratio curves: %d mixes computed in %v\n", len(res.MRC), res.MRCTime.Round(time.Millisecond))
	}
	res.Finished = time.Now().UTC()
	return res, nil
}
