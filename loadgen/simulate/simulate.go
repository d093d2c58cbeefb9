package simulate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"imgcache/loadgen/mrc"
	"imgcache/memcache/cache"
)

// ErrBadConfig reports a setting that cannot work: an unknown policy, a malformed size.
var ErrBadConfig = errors.New("bad simulation setting")

// The policies, as -policies names them.
const (
	PolicyLRU    = "LRU"
	PolicyFIFO   = "FIFO"
	PolicyRandom = "Random"
	PolicySIEVE  = "SIEVE"
	PolicyS3FIFO = "S3-FIFO"
	// PolicyMIN is Belady's optimum with bypass: a miss whose next use is farthest is not
	// admitted. Exact for unit sizes, the customary reference otherwise.
	PolicyMIN = "MIN"
)

// Policies returns every policy name, in the order of the output.
func Policies() []string {
	return []string{PolicyLRU, PolicyFIFO, PolicyRandom, PolicySIEVE, PolicyS3FIFO, PolicyMIN}
}

// storePolicy maps a policy name to the store's policy; MIN has none.
func storePolicy(name string) (cache.Policy, bool) {
	switch name {
	case PolicyLRU:
		return cache.LRU, true
	case PolicyFIFO:
		return cache.FIFO, true
	case PolicyRandom:
		return cache.Random, true
	case PolicySIEVE:
		return cache.SIEVE, true
	case PolicyS3FIFO:
		return cache.S3FIFO, true
	}
	return 0, false
}

// ParsePolicies reads a comma-separated list of policy names, spelled exactly as Policies spells
// them.
func ParsePolicies(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if _, ok := storePolicy(f); !ok && f != PolicyMIN {
			return nil, fmt.Errorf("policy %q, want some of %s: %w", f, strings.Join(Policies(), ","), ErrBadConfig)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no policy: %w", ErrBadConfig)
	}
	return out, nil
}

// Size is one cache size of -sizes: an absolute size, or a fraction of the working set.
type Size struct {
	Value    float64
	Fraction bool // Value is a share of the working set, in (0, 1)
}

// DefaultSizes are the sizes simulated when none are given: fractions of the working set.
const DefaultSizes = "0.001,0.002,0.005,0.01,0.02,0.05,0.1,0.2,0.5"

// ParseSizes reads a comma-separated list of sizes: numbers, with a KB, MB or GB suffix
// (1024-based) allowed where sizes are bytes (not unit); an entry below 1 is a fraction of the
// working set.
func ParseSizes(s string, unit bool) ([]Size, error) {
	var out []Size
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		num, mult := f, 1.0
		for _, u := range []struct {
			suffix string
			mult   float64
		}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}} {
			if n, ok := strings.CutSuffix(strings.ToUpper(f), u.suffix); ok {
				if unit {
					return nil, fmt.Errorf("size %q: with -unit-size sizes are object counts: %w", f, ErrBadConfig)
				}
				num, mult = strings.TrimSpace(n), u.mult
				break
			}
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v*mult > math.MaxInt64/2 {
			return nil, fmt.Errorf("size %q, want a positive number, a fraction below 1 or bytes with KB, MB or GB: %w", f, ErrBadConfig)
		}
		if mult == 1 && v < 1 {
			out = append(out, Size{Value: v, Fraction: true})
			continue
		}
		out = append(out, Size{Value: v * mult})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no size: %w", ErrBadConfig)
	}
	return out, nil
}

// Config is a simulation. Zero values mean the defaults.
type Config struct {
	UnitSize bool     // count every object as size 1: sizes are object counts
	Sizes    []Size   // nil means DefaultSizes
	Policies []string // nil means Policies()
	Seed     uint64   // of Random's choices
	Workers  int      // simulations at once; 0 means GOMAXPROCS
	// S3FIFO sets S3-FIFO's parameters; the zero value is the reference's defaults.
	S3FIFO cache.S3FIFOConfig
}

// Result is one policy at one size, as -json writes it.
type Result struct {
	Policy string `json:"policy"`
	// Size is the cache size: objects with -unit-size, else bytes, of the whole trace (a sampled
	// replay simulates Size times the rate).
	Size      int64   `json:"size"`
	Misses    int64   `json:"misses"`
	MissRatio float64 `json:"miss_ratio"`
	// ByteMissRatio is the share of requested bytes missed; null for MIN on a trace with sizes,
	// whose replay counts objects only.
	ByteMissRatio *float64 `json:"byte_miss_ratio"`
}

// Report is the output of a simulation, as -json writes it.
type Report struct {
	Requests int64 `json:"requests"` // requests replayed
	Objects  int64 `json:"objects"`  // distinct objects replayed
	// With sampling: the rate and the whole trace's counts.
	SampleRate    float64  `json:"sample_rate,omitempty"`
	TraceRequests int64    `json:"trace_requests,omitempty"`
	TraceObjects  int64    `json:"trace_objects,omitempty"`
	Results       []Result `json:"results"`
	// WorkingSet is the whole trace's working set: objects with -unit-size, else bytes.
	WorkingSet int64 `json:"-"`
}

// keyLen is the length of the store keys objects are named by: a 4-byte object index. With
// sizes, the store counts a key's bytes in an entry's size, so an object takes at least keyLen
// bytes; with unit sizes it counts entries.
const keyLen = 4

// Sim is a trace ready to replay at any size under any policy.
type Sim struct {
	t      *Trace
	cfg    Config
	keys   []string // store key of each object
	value  []byte   // a value of every size up to the largest that can fit; never written
	oracle *mrc.Oracle
	total  int64 // requested bytes (requests with -unit-size)
	ws     int64 // working set of the replayed objects, in size units
}

// New prepares t for replay under cfg.
func New(t *Trace, cfg Config) (*Sim, error) {
	if cfg.Policies == nil {
		cfg.Policies = Policies()
	}
	if cfg.Sizes == nil {
		sz, err := ParseSizes(DefaultSizes, cfg.UnitSize)
		if err != nil {
			return nil, err
		}
		cfg.Sizes = sz
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if err := cfg.S3FIFO.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	s := &Sim{t: t, cfg: cfg}
	all := make([]byte, keyLen*t.Objects)
	for i := range t.Objects {
		all[keyLen*i], all[keyLen*i+1], all[keyLen*i+2], all[keyLen*i+3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
	}
	names := string(all)
	s.keys = make([]string, t.Objects)
	seen := make([]bool, t.Objects)
	for i := range s.keys {
		s.keys[i] = names[keyLen*i : keyLen*i+keyLen]
	}
	var largest uint32
	for _, r := range t.Requests {
		c := s.charge(r)
		s.total += c
		if !seen[r.ID] {
			seen[r.ID] = true
			s.ws += c
		}
		largest = max(largest, r.Size)
	}
	if !cfg.UnitSize {
		s.value = make([]byte, 0, largest)
	}
	return s, nil
}

// charge is what a request counts for: 1 with unit sizes, else its bytes.
func (s *Sim) charge(r Request) int64 {
	if s.cfg.UnitSize {
		return 1
	}
	return int64(r.Size)
}

// WorkingSet returns the whole trace's working set (estimated from the sample with sampling):
// objects with unit sizes, else bytes.
func (s *Sim) WorkingSet() int64 {
	if s.cfg.UnitSize {
		return s.t.ReadObjects
	}
	return int64(math.Round(float64(s.ws) / s.t.Rate))
}

// Resolve turns a Size into the cache size it stands for.
func (s *Sim) Resolve(sz Size) int64 {
	if sz.Fraction {
		return max(1, int64(math.Round(sz.Value*float64(s.WorkingSet()))))
	}
	return int64(math.Round(sz.Value))
}

// Run simulates every policy at every size, in parallel, and returns the report.
func (s *Sim) Run(ctx context.Context) (Report, error) {
	rep := Report{Requests: int64(len(s.t.Requests)), Objects: int64(s.t.Objects), WorkingSet: s.WorkingSet()}
	if s.t.Rate < 1 {
		rep.SampleRate, rep.TraceRequests, rep.TraceObjects = s.t.Rate, s.t.Read, s.t.ReadObjects
	}
	rep.Results = make([]Result, 0, len(s.cfg.Policies)*len(s.cfg.Sizes))
	for _, p := range s.cfg.Policies {
		for _, sz := range s.cfg.Sizes {
			rep.Results = append(rep.Results, Result{Policy: p, Size: s.Resolve(sz)})
		}
	}
	if slices.Contains(s.cfg.Policies, PolicyMIN) {
		s.PrepareMIN()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Workers)
	for i := range rep.Results {
		g.Go(func() error {
			r, err := s.One(gctx, rep.Results[i].Policy, rep.Results[i].Size)
			rep.Results[i] = r
			return err
		})
	}
	return rep, g.Wait()
}

// checkEvery is how many requests a replay serves between looks at its context.
const checkEvery = 1 << 16

// One replays the trace under one policy with a cache of size (objects with unit sizes, else
// bytes, of the whole trace: a sampled replay scales it by the rate).
func (s *Sim) One(ctx context.Context, policy string, size int64) (Result, error) {
	res := Result{Policy: policy, Size: size}
	capacity := int64(math.Round(float64(size) * s.t.Rate))
	var misses, missBytes int64
	if policy == PolicyMIN {
		if s.oracle == nil {
			return res, errors.New("simulate: MIN not prepared (call PrepareMIN)")
		}
		hits, err := s.oracle.Hits(ctx, capacity)
		if err != nil {
			return res, err
		}
		misses = int64(len(s.t.Requests)) - hits
		if s.cfg.UnitSize {
			missBytes = misses
		} else {
			missBytes = -1
		}
	} else {
		p, ok := storePolicy(policy)
		if !ok {
			return res, fmt.Errorf("policy %q: %w", policy, ErrBadConfig)
		}
		var err error
		misses, missBytes, err = s.replay(ctx, p, capacity)
		if err != nil {
			return res, err
		}
	}
	res.Misses = misses
	if n := len(s.t.Requests); n > 0 {
		res.MissRatio = float64(misses) / float64(n)
	}
	if missBytes >= 0 {
		b := 0.0
		if s.total > 0 {
			b = float64(missBytes) / float64(s.total)
		}
		res.ByteMissRatio = &b
	}
	return res, nil
}

// PrepareMIN finds the trace's next uses for MIN; Run calls it when MIN is among the policies.
func (s *Sim) PrepareMIN() {
	if s.oracle != nil {
		return
	}
	tr := make([]mrc.Request, len(s.t.Requests))
	for i, r := range s.t.Requests {
		tr[i] = mrc.Request{Key: r.ID, Value: uint32(min(s.charge(r), math.MaxUint32))}
	}
	// MIN's items are sized by their values alone: its keys are empty.
	s.oracle = mrc.NewOracle(tr, make([]string, s.t.Objects))
}

// replay serves the trace from a new store: every request is a lookup, and a miss admits the
// object (the store refuses one larger than it can hold). It returns the misses and the missed
// size units.
func (s *Sim) replay(ctx context.Context, p cache.Policy, capacity int64) (misses, missBytes int64, err error) {
	st := cache.NewStore(capacity, p, s.cfg.Seed)
	// Unit sizes: the store counts entries, so that S3-FIFO's shares round to
	// whole objects as the reference's do.
	st.SetUnitSize(s.cfg.UnitSize)
	if err := st.SetS3FIFO(s.cfg.S3FIFO); err != nil {
		return 0, 0, err
	}
	for i, r := range s.t.Requests {
		if i%checkEvery == 0 && ctx.Err() != nil {
			return 0, 0, ctx.Err()
		}
		key := s.keys[r.ID]
		if _, ok := st.Get(key); ok {
			continue
		}
		misses++
		if s.cfg.UnitSize {
			missBytes++
			_, _ = st.Put(key, nil)
			continue
		}
		missBytes += int64(r.Size)
		n := max(int64(r.Size), keyLen) - keyLen
		if n > capacity {
			continue // larger than the cache: refused, as the store would
		}
		_, _ = st.Put(key, s.value[:n])
	}
	return misses, missBytes, nil
}
