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
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultStartRate         = 50
	DefaultRateFactor        = 2
	DefaultMaxRate           = 6400
	DefaultWarmup            = 1500 * time.Millisecond
	DefaultDuration          = 6 * time.Second
	DefaultCacheFraction     = 0.25
	DefaultUploadConcurrency = 4
)

// Quick-mode values, used by ApplyQuick: every cell of the matrix, two short steps each, on a
// small data set, so the whole harness is exercised in well under 90 seconds.
const (
	QuickImages     = 50
	QuickStartRate  = 100
	QuickRateFactor = 4
	QuickMaxRate    = 400
	QuickWarmup     = 500 * time.Millisecond
	QuickDuration   = 1500 * time.Millisecond
)

// DefaultPolicies are the run matrix's policies: the two replacement policies and the
// cache-off baseline.
var DefaultPolicies = []string{PolicyLRU, PolicyRandom, PolicyOff}

// Config describes a run. The zero value of each field means its default.
type Config struct {
	BackendURL  string // required
	MemcacheURL string // for hit rates; empty means none are measured
	Managed     bool   // loadgen started the services (recorded in the results)
	Quick       bool   // recorded in the results; see ApplyQuick

	Dataset    DatasetConfig
	Popularity string  // PopularityZipf or PopularityUniform
	ZipfS      float64 // 0 means DefaultZipfS
	Versions   int     // write bodies per key; 0 means DefaultVersions

	Mixes    []Mix    // nil means DefaultMixes
	Policies []string // nil means DefaultPolicies
	// CapacityMB is the cache size for LRU and Random; 0 means CacheFraction of what the cache
	// would hold for the whole data set (base64 values plus keys), rounded to whole MB, at least 1.
	CapacityMB    int
	CacheFraction float64

	StartRate  float64 // first offered rate, requests a second
	RateFactor float64 // each step offers this many times the last
	MaxRate    float64 // no step offers more
	Warmup     time.Duration
	Duration   time.Duration
	Timeout    time.Duration
	MaxWorkers uint64
	Limits     Limits

	UploadConcurrency int
	// VegetaDir, when set, receives each step's results in vegeta's gob encoding.
	VegetaDir string
	Machine   Machine // recorded in the results

	Logger   *slog.Logger // nil means slog.Default()
	Progress io.Writer    // a line a step; nil means none
}

// ApplyQuick fills the unset fields of c with the quick mode's values.
func ApplyQuick(c *Config) {
	c.Quick = true
	if c.Dataset.Images == 0 {
		c.Dataset.Images = QuickImages
	}
	setIf(&c.StartRate, QuickStartRate)
	setIf(&c.RateFactor, QuickRateFactor)
	setIf(&c.MaxRate, QuickMaxRate)
	setIf(&c.Warmup, QuickWarmup)
	setIf(&c.Duration, QuickDuration)
}

func setIf[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

func (c Config) withDefaults() Config {
	c.Dataset = c.Dataset.withDefaults()
	setIf(&c.Popularity, PopularityZipf)
	setIf(&c.ZipfS, DefaultZipfS)
	setIf(&c.Versions, DefaultVersions)
	if c.Mixes == nil {
		c.Mixes = DefaultMixes
	}
	if c.Policies == nil {
		c.Policies = DefaultPolicies
	}
	setIf(&c.CacheFraction, DefaultCacheFraction)
	setIf(&c.StartRate, DefaultStartRate)
	setIf(&c.RateFactor, DefaultRateFactor)
	setIf(&c.MaxRate, DefaultMaxRate)
	setIf(&c.Warmup, DefaultWarmup)
	setIf(&c.Duration, DefaultDuration)
	setIf(&c.Timeout, DefaultTimeout)
	setIf(&c.MaxWorkers, DefaultMaxWorkers)
	c.Limits = c.Limits.withDefaults()
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
	if c.Duration <= 0 || c.Warmup < 0 {
		errs = append(errs, fmt.Errorf("warm-up %v, duration %v", c.Warmup, c.Duration))
	}
	if c.CapacityMB < 0 || c.CacheFraction <= 0 {
		errs = append(errs, fmt.Errorf("capacity %d MB, fraction %g", c.CapacityMB, c.CacheFraction))
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

// NormalizePolicy returns PolicyLRU, PolicyRandom or PolicyOff for the names people use.
func NormalizePolicy(p string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "lru", "least recently used":
		return PolicyLRU, nil
	case "random", "rr", "random replacement":
		return PolicyRandom, nil
	case "off", "none", "0", "nocache", "no-cache":
		return PolicyOff, nil
	}
	return "", fmt.Errorf("policy %q (want LRU, Random or off): %w", p, ErrBadConfig)
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

// CapacityFor returns fraction of the data set's stored bytes in whole MB, at least 1.
func CapacityFor(info DatasetInfo, fraction float64) int {
	return max(1, int(math.Round(fraction*float64(info.StoredBytes)/(1<<20))))
}

// Run runs the matrix: for each mix and policy, set the cache, upload the data set, clear the
// cache, then offer rising rates until a step saturates or the maximum rate is done. It returns
// what was measured even when it fails or ctx ends early, together with the error.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	cfg = cfg.withDefaults()
	res := &Results{Version: ResultsVersion, Started: time.Now().UTC(), Machine: cfg.Machine}
	fail := func(err error) (*Results, error) {
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
	w, err := NewWorkload(cfg.BackendURL, ds, cfg.Versions)
	if err != nil {
		return fail(err)
	}
	pop, err := NewPopularity(cfg.Popularity, len(ds.Images), cfg.ZipfS, cfg.Dataset.Seed)
	if err != nil {
		return fail(err)
	}
	log.Info("data set ready", "images", res.Dataset.Images, "bytes", res.Dataset.Bytes,
		"median", res.Dataset.MedianBytes, "cache_mb", capMB, "took", time.Since(t0).Round(time.Millisecond))

	res.Params = Params{
		Quick: cfg.Quick, Target: cfg.BackendURL, Memcache: cfg.MemcacheURL, Managed: cfg.Managed,
		Popularity: pop.String(), Seed: cfg.Dataset.Seed, Mixes: cfg.Mixes, Policies: policies,
		CacheFraction: cfg.CacheFraction, CapacityMB: capMB,
		StartRate: cfg.StartRate, RateFactor: cfg.RateFactor, MaxRate: cfg.MaxRate,
		Warmup: cfg.Warmup, Duration: cfg.Duration, Timeout: cfg.Timeout, MaxWorkers: cfg.MaxWorkers,
		Limits: cfg.Limits,
	}
	if cfg.VegetaDir != "" {
		if err := os.MkdirAll(cfg.VegetaDir, 0o755); err != nil {
			return fail(err)
		}
	}

	ctl := &Control{BackendURL: cfg.BackendURL, MemcacheURL: cfg.MemcacheURL}
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

	rates := Rates(cfg.StartRate, cfg.RateFactor, cfg.MaxRate)
	prog := newProgress(cfg.Progress, len(cfg.Mixes)*len(policies), len(rates), cfg.Warmup+cfg.Duration)
	r := &runner{cfg: cfg, ctl: ctl, w: w, pop: pop, rates: rates, prog: prog}
	for _, mix := range cfg.Mixes {
		for _, policy := range policies {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			s := Series{Mix: mix, Policy: policy, CapacityMB: capMB}
			if policy == PolicyOff {
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
	res.Finished = time.Now().UTC()
	prog.done()
	return res, nil
}

type runner struct {
	cfg   Config
	ctl   *Control
	w     *Workload
	pop   *Popularity
	rates []float64
	prog  *progress
}

func (r *runner) series(ctx context.Context, s *Series) error {
	policy := s.Policy
	if policy == PolicyOff {
		policy = PolicyLRU
	}
	if err := r.ctl.SetCache(ctx, s.CapacityMB, policy); err != nil {
		return err
	}
	if r.ctl.MemcacheURL != "" {
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
	// The same seed for every series: each policy sees the same sequence of keys.
	tr, err := NewTargeter(r.w, r.pop, s.Mix.ReadFraction(), r.cfg.Dataset.Seed)
	if err != nil {
		return err
	}
	for _, rate := range r.rates {
		name := fmt.Sprintf("%d-%d-%s-%g", s.Mix.Reads, s.Mix.Writes, strings.ToLower(s.Policy), rate)
		sc := StepConfig{
			Name: name, Rate: rate, Warmup: r.cfg.Warmup, Duration: r.cfg.Duration,
			Timeout: r.cfg.Timeout, MaxWorkers: r.cfg.MaxWorkers, Control: r.ctl,
		}
		if r.cfg.VegetaDir != "" {
			sc.VegetaFile = filepath.Join(r.cfg.VegetaDir, name+".bin")
		}
		t := time.Now()
		st, err := RunStep(ctx, tr.Targeter(), sc)
		if err != nil {
			return err
		}
		if sc.VegetaFile != "" {
			st.VegetaFile = filepath.Join(filepath.Base(r.cfg.VegetaDir), name+".bin")
		}
		st.Reasons = r.cfg.Limits.Check(st)
		st.Saturated = len(st.Reasons) > 0
		s.Steps = append(s.Steps, st)
		r.prog.step(*s, st, time.Since(t))
		if st.Saturated {
			break
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
