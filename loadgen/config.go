package loadgen

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"time"

	"imgcache/loadgen/cachetrace"
	"imgcache/loadgen/cost"
	"imgcache/loadgen/cpuload"
	"imgcache/memcache/wire"
	"imgcache/reports/results"
)

// Defaults of Config. A make bench run is 3 mixes × 3 policies × 3 repeats = 27 series of steps
// of 5.5 s: about seven in a cell's first run, five in the later ones (which start at the sweep's
// rate the previous one sustained), and a confirmation of 15.5 s in the last: about 19 minutes.
const (
	DefaultStartRate         = 200
	DefaultRateFactor        = 2
	DefaultMaxRate           = 12800
	DefaultWarmup            = 500 * time.Millisecond
	DefaultDuration          = 5 * time.Second
	DefaultRepeat            = 3
	DefaultResolution        = 0.05
	DefaultSearchSteps       = 3
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
	// BackendURLs are the backends the attacks spread over, in turn; BackendURL, the one the cache
	// is configured through, is the first of them. One of the two is required: either alone means
	// the other.
	BackendURL  string
	BackendURLs []string
	// MemcacheURLs are the memcache nodes, for hit rates (summed over them); none means no hit
	// rates are measured. MemcacheSecret is sent with their /stats.
	MemcacheURLs   []string
	MemcacheSecret string
	Managed        bool // loadgen started the services (recorded in the results)
	// Storage ("file" or "s3"; "" unknown: a running deployment's) and Nodes (the memcache pool's
	// active nodes; 0 means len(MemcacheURLs)) describe the services; recorded only.
	Storage string
	Nodes   int
	Quick   bool // recorded in the results; see ApplyQuick
	// StorageModel describes the network model between the backends and the store ("" none);
	// Pinned where loadgen and the services ran ("" unpinned). Recorded only.
	StorageModel string
	Pinned       string
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
	// Cost, when set, measures each step's CPU time by tier and the backends' storage reads and
	// database queries.
	Cost *cost.Meter
	// TraceRecord is how many requests of each series the miss-ratio curves get; 0 means
	// DefaultTraceRecord, negative none (no curves).
	TraceRecord int

	UploadConcurrency int
	// VegetaDir, when set, receives each step's results in vegeta's gob encoding.
	VegetaDir string
	Machine   results.Machine // recorded in the results

	Logger   *slog.Logger // nil means slog.Default()
	Progress io.Writer    // a line a step; nil means none

	// NoVerify turns off the check of every read's answer against the uploads (loadgen/verify).
	NoVerify bool
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
	if len(c.BackendURLs) == 0 && c.BackendURL != "" {
		c.BackendURLs = []string{c.BackendURL}
	}
	if c.BackendURL == "" && len(c.BackendURLs) > 0 {
		c.BackendURL = c.BackendURLs[0]
	}
	setIf(&c.Nodes, len(c.MemcacheURLs))
	c.Dataset = c.Dataset.WithDefaults()
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

// CapacityFor returns fraction of the data set's stored bytes in whole MB, at least 1.
func CapacityFor(info results.DatasetInfo, fraction float64) int {
	return max(1, int(math.Round(fraction*float64(info.StoredBytes)/(1<<20))))
}
