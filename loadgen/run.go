package loadgen

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"imgcache/loadgen/cachetrace"
	"imgcache/loadgen/cpuload"
	"imgcache/loadgen/mrc"
	"imgcache/loadgen/results"
	"imgcache/memcache/wire"
)

// Defaults of Config. A make bench run is 3 mixes × 3 policies × 3 repeats = 27 series of
// about ten steps of 2.5 s: about 12 minutes on 2 cores.
const (
	DefaultStartRate         = 200
	DefaultRateFactor        = 2
	DefaultMaxRate           = 12800
	DefaultWarmup            = 500 * time.Millisecond
	DefaultDuration          = 2 * time.Second
	DefaultRepeat            = 3
	DefaultResolution        = 0.05
	DefaultSearchSteps       = 4
	DefaultCacheFraction     = 0.25
	DefaultUploadConcurrency = 4
	// DefaultTraceRecord is how many requests of each series are kept for the miss-ratio
	// curves (12 bytes each); a make bench series sends about 40,000.
	DefaultTraceRecord = 4_000_000
)

// Quick-mode values, used by ApplyQuick: every cell of the matrix once, two short steps each
// and at most two search steps, on a small data set, so the whole harness runs in well under
// 90 seconds.
const (
	QuickImages      = 50
	QuickStartRate   = 100
	QuickRateFactor  = 4
	QuickMaxRate     = 400
	QuickWarmup      = 500 * time.Millisecond
	QuickDuration    = 1500 * time.Millisecond
	QuickRepeat      = 1
	QuickSearchSteps = 2
)

// DefaultPolicies are the run matrix's policies: the two replacement policies and the
// cache-off baseline.
func DefaultPolicies() []string {
	return []string{results.PolicyLRU, results.PolicyRandom, results.PolicyOff}
}

// DefaultMixes are the run matrix's mixes: write-heavy, even, read-heavy.
func DefaultMixes() []results.Mix {
	return []results.Mix{{Reads: 20, Writes: 80}, {Reads: 50, Writes: 50}, {Reads: 80, Writes: 20}}
}

// Config describes a run. The zero value of each field means its default.
type Config struct {
	BackendURL string // required
	// MemcacheURLs are the memcache nodes, for hit rates (summed over them); none means no hit
	// rates are measured. MemcacheSecret is sent with their /stats.
	MemcacheURLs   []string
	MemcacheSecret string
	Managed        bool // loadgen started the services (recorded in the results)
	Quick          bool // recorded in the results; see ApplyQuick
	// Command is the command line of the run, recorded so that the report can say how to
	// reproduce it.
	Command []string

	Dataset DatasetConfig
	// Workload names the preset applied (see ApplyWorkload) or "trace"; recorded only.
	Workload   string
	Popularity string  // PopularityZipf or PopularityUniform
	ZipfS      float64 // 0 means DefaultZipfS
	WriteKeys  string  // WriteKeysSame (""), WriteKeysUniform or WriteKeysNew
	// Trace, when set, is replayed instead of drawing keys (see LoadTrace); TraceName names it.
	Trace     *cachetrace.Trace
	TraceName string
	Versions  int // write bodies per key; 0 means DefaultVersions

	Mixes    []results.Mix // nil means DefaultMixes
	Policies []string      // nil means DefaultPolicies
	// Repeat runs each cell this many times, the cells interleaved; 0 means DefaultRepeat.
	Repeat int
	// CapacityMB is the cache size for LRU and Random; 0 means CacheFraction of what the cache
	// would hold for the whole data set (base64 values plus keys), rounded to whole MB, at least 1.
	CapacityMB    int
	CacheFraction float64

	StartRate  float64 // first offered rate, requests a second
	RateFactor float64 // each step of the sweep offers this many times the last
	MaxRate    float64 // no step offers more
	// Resolution and SearchSteps bound the bisection after the sweep: it stops once
	// (hi-lo)/lo <= Resolution or after SearchSteps steps (negative: none).
	Resolution  float64
	SearchSteps int
	Warmup      time.Duration
	Duration    time.Duration
	Timeout     time.Duration
	MaxWorkers  uint64
	Limits      results.Limits

	// Load measures the CPU use of each step; nil means a sampler of loadgen alone. HeavyLoad
	// is the outside load, in CPUs, above which a step is flagged; 0 means a quarter of the CPUs.
	Load      LoadSampler
	HeavyLoad float64
	// TraceRecord is how many requests of each series the miss-ratio curves get; 0 means
	// DefaultTraceRecord, negative none (no curves).
	TraceRecord int

	UploadConcurrency int
	// VegetaDir, when set, receives each step's results in vegeta's gob encoding.
	VegetaDir string
	Machine   results.Machine // recorded in the results

	Logger   *slog.Logger // nil means slog.Default()
	Progress io.Writer    // a line a step; nil means none
}

// ApplyQuick fills the unset fields of c with the quick mode's values.
func ApplyQuick(c *Config) {
	c.Quick = true
	if c.Dataset.Images == 0 && len(c.Dataset.Sizes) == 0 {
		c.Dataset.Images = QuickImages
	}
	setIf(&c.StartRate, QuickStartRate)
	setIf(&c.RateFactor, QuickRateFactor)
	setIf(&c.MaxRate, QuickMaxRate)
	setIf(&c.Warmup, QuickWarmup)
	setIf(&c.Duration, QuickDuration)
	setIf(&c.Repeat, QuickRepeat)
	setIf(&c.SearchSteps, QuickSearchSteps)
}

func setIf[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

func (c Config) withDefaults() Config {
	c.Dataset = c.Dataset.withDefaults()
	setIf(&c.Workload, WorkloadDefault)
	setIf(&c.Popularity, PopularityZipf)
	setIf(&c.ZipfS, DefaultZipfS)
	setIf(&c.WriteKeys, WriteKeysSame)
	setIf(&c.Versions, DefaultVersions)
	if c.Mixes == nil {
		c.Mixes = DefaultMixes()
	}
	if c.Policies == nil {
		c.Policies = DefaultPolicies()
	}
	setIf(&c.Repeat, DefaultRepeat)
	setIf(&c.CacheFraction, DefaultCacheFraction)
	setIf(&c.StartRate, DefaultStartRate)
	setIf(&c.RateFactor, DefaultRateFactor)
	setIf(&c.MaxRate, DefaultMaxRate)
	setIf(&c.Resolution, DefaultResolution)
	setIf(&c.SearchSteps, DefaultSearchSteps)
	setIf(&c.Warmup, DefaultWarmup)
	setIf(&c.Duration, DefaultDuration)
	setIf(&c.Timeout, DefaultTimeout)
	setIf(&c.MaxWorkers, DefaultMaxWorkers)
	c.Limits = c.Limits.WithDefaults()
	if c.Load == nil {
		c.Load = cpuload.New("")
	}
	setIf(&c.HeavyLoad, float64(runtime.NumCPU())/4)
	setIf(&c.TraceRecord, DefaultTraceRecord)
	setIf(&c.UploadConcurrency, DefaultUploadConcurrency)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.BackendURL == "" {
		errs = append(errs, errors.New("no backend URL"))
	}
	if c.StartRate < 1 || c.MaxRate < c.StartRate || c.RateFactor <= 1 {
		errs = append(errs, fmt.Errorf("rates from %g by %g up to %g", c.StartRate, c.RateFactor, c.MaxRate))
	}
	if c.Resolution <= 0 || c.Repeat < 1 {
		errs = append(errs, fmt.Errorf("resolution %g, repeat %d", c.Resolution, c.Repeat))
	}
	if c.Duration <= 0 || c.Warmup < 0 {
		errs = append(errs, fmt.Errorf("warm-up %v, duration %v", c.Warmup, c.Duration))
	}
	if c.CapacityMB < 0 || c.CacheFraction <= 0 {
		errs = append(errs, fmt.Errorf("capacity %d MB, fraction %g", c.CapacityMB, c.CacheFraction))
	}
	if _, err := ParseWriteKeys(c.WriteKeys); err != nil {
		errs = append(errs, err)
	}
	for _, p := range c.Policies {
		if _, err := NormalizePolicy(p); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return nil
}

// NormalizePolicy returns the run matrix's name of a policy (results.PolicyLRU, PolicyRandom,
// PolicySIEVE, PolicyS3FIFO or PolicyOff) for any name the memcache accepts, or for "off".
func NormalizePolicy(p string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "off", "none", "0", "nocache", "no-cache":
		return results.PolicyOff, nil
	}
	info, err := wire.ParsePolicy(p)
	if err != nil {
		names := make([]string, 0, 4)
		for _, i := range wire.Policies() {
			names = append(names, i.Short)
		}
		return "", fmt.Errorf("policy %q (want %s or off): %w", p, strings.Join(names, ", "), ErrBadConfig)
	}
	return info.Short, nil
}

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

// CapacityFor returns fraction of the data set's stored bytes in whole MB, at least 1.
func CapacityFor(info results.DatasetInfo, fraction float64) int {
	return max(1, int(math.Round(fraction*float64(info.StoredBytes)/(1<<20))))
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
	w, err := NewWorkload(cfg.BackendURL, ds, cfg.Versions, cfg.WriteKeys == WriteKeysNew && cfg.Trace == nil)
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
		Quick: cfg.Quick, Target: cfg.BackendURL, Memcache: strings.Join(cfg.MemcacheURLs, ","), Managed: cfg.Managed,
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
	r := &runner{cfg: cfg, ctl: ctl, w: w, pop: pop, rates: rates, prog: prog, traces: map[results.Mix][][]mrc.Request{}}
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
			in := mrc.Input{Mix: mix, Keys: w.Names(), Traces: r.traces[mix], Truncated: r.truncated, Extra: []int64{int64(capMB) << 20}}
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

type runner struct {
	cfg       Config
	ctl       *Control
	w         *Workload
	pop       *Popularity
	rates     []float64
	prog      *progress
	traces    map[results.Mix][][]mrc.Request
	truncated bool
}

func (r *runner) series(ctx context.Context, s *results.Series) error {
	policy := s.Policy
	if policy == results.PolicyOff {
		policy = results.PolicyLRU
	}
	if err := r.ctl.SetCache(ctx, s.CapacityMB, policy); err != nil {
		return err
	}
	if len(r.ctl.MemcacheURLs) > 0 {
		st, err := r.ctl.Stats(ctx)
		if err != nil {
			return err
		}
		if st.CapacityMB != int64(s.CapacityMB) || (s.CapacityMB > 0 && !policyMatches(st.Policy, policy)) {
			return fmt.Errorf("cache set to %d MB %s, but memcache reports %d MB %q: %w",
				s.CapacityMB, policy, st.CapacityMB, st.Policy, ErrService)
		}
	}
	t0 := time.Now()
	if err := r.ctl.UploadAll(ctx, r.w, r.cfg.UploadConcurrency); err != nil {
		return err
	}
	s.Upload = time.Since(t0)
	if err := r.ctl.ClearCache(ctx); err != nil {
		return err
	}
	r.prog.seriesStart(*s)
	// The same seed for every policy of a mix and repeat: each sees the same sequence of keys.
	tr, err := NewTargeter(r.w, TargeterConfig{
		ReadFraction: s.Mix.ReadFraction(), Reads: r.pop, WriteKeys: r.cfg.WriteKeys,
		Replay: r.cfg.Trace, Seed: s.Seed, Record: max(r.cfg.TraceRecord, 0),
	})
	if err != nil {
		return err
	}
	defer func() {
		if reqs, cut := tr.Trace(); len(reqs) > 0 {
			r.traces[s.Mix] = append(r.traces[s.Mix], reqs)
			r.truncated = r.truncated || cut
		}
	}()
	step := func(rate float64, phase string) (results.Step, error) {
		name := fmt.Sprintf("%d-%d-%s-r%d-%g", s.Mix.Reads, s.Mix.Writes, strings.ToLower(s.Policy), s.Repeat+1, rate)
		sc := StepConfig{
			Name: name, Rate: rate, Warmup: r.cfg.Warmup, Duration: r.cfg.Duration,
			Timeout: r.cfg.Timeout, MaxWorkers: r.cfg.MaxWorkers, Control: r.ctl, Load: r.cfg.Load,
		}
		if r.cfg.VegetaDir != "" {
			sc.VegetaFile = filepath.Join(r.cfg.VegetaDir, name+".bin")
		}
		t := time.Now()
		st, err := RunStep(ctx, tr.Targeter(), sc)
		if err != nil {
			return st, err
		}
		st.Phase = phase
		if sc.VegetaFile != "" {
			st.VegetaFile = filepath.Join(filepath.Base(r.cfg.VegetaDir), name+".bin")
		}
		st.Load.Heavy = st.Load.OK && st.Load.Outside > r.cfg.HeavyLoad
		st.Reasons = r.cfg.Limits.Check(st)
		st.Saturated = len(st.Reasons) > 0
		s.Steps = append(s.Steps, st)
		r.prog.step(*s, st, time.Since(t))
		return st, nil
	}
	for _, rate := range r.rates {
		st, err := step(rate, results.PhaseSweep)
		if err != nil {
			return err
		}
		if st.Saturated {
			break
		}
	}
	for range max(r.cfg.SearchSteps, 0) {
		found := s.Search()
		rate, ok := NextProbe(found.Lo, found.Hi, r.cfg.Resolution)
		if !found.OK && found.Hi > 1 {
			// The first rate already saturated (a slow target, or a busy machine): step down
			// the sweep's way until a rate is served, then bisect.
			rate, ok = max(1, math.Round(found.Hi/r.cfg.RateFactor)), true
		}
		if !ok {
			break
		}
		if _, err := step(rate, results.PhaseSearch); err != nil {
			return err
		}
	}
	r.prog.seriesEnd(*s)
	return nil
}

// policyMatches reports whether the memcache's policy name is the one asked for.
func policyMatches(reported, asked string) bool {
	p, err := NormalizePolicy(reported)
	return err == nil && p == asked
}

// StoredSize returns what the cache counts for one image: its base64 value plus its key.
func StoredSize(key string, n int) int { return base64.StdEncoding.EncodedLen(n) + len(key) }
