// Package results holds what a loadgen run measured, and reads and writes it as results.json.
package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Version is the version of the results.json layout. Version 1 (one run of each cell, no
// search, no load, no miss-ratio curves) is still read: its fields are a subset of version 2's.
const Version = 2

// ErrBadConfig reports a value that cannot work: a malformed mix, an unknown results version.
var ErrBadConfig = errors.New("bad configuration")

// Cache policies of the run matrix, as series name them: the memcache's short names
// (memcache/wire's PolicyInfo.Short). PolicyOff is the baseline: capacity 0 turns caching off.
const (
	PolicyLRU    = "LRU"
	PolicyRandom = "Random"
	PolicySIEVE  = "SIEVE"
	PolicyS3FIFO = "S3-FIFO"
	PolicyOff    = "off"
)

// Phases of a series' steps.
const (
	PhaseSweep  = "sweep"  // the rising sweep: start rate, times the factor, until saturation
	PhaseSearch = "search" // the bisection between the last unsaturated and the first saturated rate
)

// Mix is a read:write ratio, e.g. 80:20.
type Mix struct {
	Reads  int
	Writes int
}

// ParseMix parses "80:20".
func ParseMix(s string) (Mix, error) {
	r, w, ok := strings.Cut(strings.TrimSpace(s), ":")
	ri, err1 := strconv.Atoi(r)
	wi, err2 := strconv.Atoi(w)
	if !ok || err1 != nil || err2 != nil || ri < 0 || wi < 0 || ri+wi == 0 {
		return Mix{}, fmt.Errorf("mix %q (want reads:writes, e.g. 80:20): %w", s, ErrBadConfig)
	}
	return Mix{ri, wi}, nil
}

// String formats the mix as reads:writes.
func (m Mix) String() string { return fmt.Sprintf("%d:%d", m.Reads, m.Writes) }

// Slug formats the mix for file names, e.g. "80-20".
func (m Mix) Slug() string { return fmt.Sprintf("%d-%d", m.Reads, m.Writes) }

// ReadFraction returns the share of reads.
func (m Mix) ReadFraction() float64 { return float64(m.Reads) / float64(m.Reads+m.Writes) }

// MarshalText writes the mix as reads:writes.
func (m Mix) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads reads:writes.
func (m *Mix) UnmarshalText(b []byte) error {
	v, err := ParseMix(string(b))
	*m = v
	return err
}

// Latency summarises one class of requests of a step (vegeta's metrics).
type Latency struct {
	Requests   uint64        `json:"requests"`
	Successes  uint64        `json:"successes"`
	Throughput float64       `json:"throughput_rps"` // successful responses a second
	Mean       time.Duration `json:"mean_ns"`
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
}

// Load is the machine's CPU use during a step, in CPUs (1 is one CPU busy the whole step).
type Load struct {
	OK   bool    `json:"ok"`   // false where /proc could not be read: the rest is zero
	CPUs int     `json:"cpus"` // CPUs of the machine
	Busy float64 `json:"busy"` // all work on the machine
	// Own is the work of loadgen and of the services it started; Outside is the rest: other
	// processes, which compete with the measurement for the CPUs.
	Own     float64 `json:"own"`
	Outside float64 `json:"outside"`
	Heavy   bool    `json:"heavy"` // Outside exceeded the run's Params.HeavyLoad
}

// Step is one measured constant-rate attack.
type Step struct {
	Phase      string        `json:"phase,omitempty"` // PhaseSweep or PhaseSearch; "" (version 1) is the sweep
	Offered    float64       `json:"offered_rps"`     // the rate asked of vegeta
	Sent       float64       `json:"sent_rps"`        // the rate vegeta managed to send
	Throughput float64       `json:"throughput_rps"`  // successful responses a second
	Duration   time.Duration `json:"duration_ns"`     // measured window, warm-up excluded
	All        Latency       `json:"all"`
	Reads      Latency       `json:"reads"`
	Writes     Latency       `json:"writes"`
	// Errors counts failed requests by kind: "http 404", "timeout", "connection refused", ...
	Errors map[string]int `json:"errors,omitempty"`
	// ErrorSamples holds one message of each kind.
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// CacheStats says whether the memcache counters were read; CacheGets and CacheHits are
	// their increase over the measured window.
	CacheStats bool  `json:"cache_stats"`
	CacheGets  int64 `json:"cache_gets"`
	CacheHits  int64 `json:"cache_hits"`
	// CacheFills and CacheRefusedFills count the misses' fills that the cache stored and those
	// it refused (a write invalidated the key after the miss, or the value did not fit).
	CacheFills        int64    `json:"cache_fills"`
	CacheRefusedFills int64    `json:"cache_refused_fills"`
	CacheBytes        int64    `json:"cache_bytes"` // bytes held at the end of the step
	CacheItems        int64    `json:"cache_items"` // items held at the end of the step
	Load              Load     `json:"load"`        // over the warm-up and the measured window
	Saturated         bool     `json:"saturated"`
	Reasons           []string `json:"reasons,omitempty"` // why the step counts as saturated
	VegetaFile        string   `json:"vegeta_file,omitempty"`
}

// InSweep reports whether the step belongs to the rising sweep.
func (s Step) InSweep() bool { return s.Phase == PhaseSweep || s.Phase == "" }

// HitRate returns the cache's hit rate over the step, and false when it is unknown (no
// statistics, or no lookups).
func (s Step) HitRate() (float64, bool) {
	if !s.CacheStats || s.CacheGets <= 0 {
		return 0, false
	}
	return float64(s.CacheHits) / float64(s.CacheGets), true
}

// ErrorRate returns the share of failed requests.
func (s Step) ErrorRate() float64 {
	if s.All.Requests == 0 {
		return 0
	}
	return 1 - float64(s.All.Successes)/float64(s.All.Requests)
}

// Series is one run of a cell (a mix and a policy): the rising sweep, then the search.
type Series struct {
	Mix        Mix           `json:"mix"`
	Policy     string        `json:"policy"` // PolicyLRU, PolicyRandom or PolicyOff
	Repeat     int           `json:"repeat"` // 0 for the first run of the cell
	CapacityMB int           `json:"capacity_mb"`
	Seed       uint64        `json:"seed,omitempty"` // of the key draws; every policy of a mix and repeat has the same
	Upload     time.Duration `json:"upload_ns"`      // time to upload the data set before the sweep
	Steps      []Step        `json:"steps"`
	Error      string        `json:"error,omitempty"` // why the series stopped early, if it did
}

// Peak returns the step of highest throughput. It returns false for a series without steps.
func (s Series) Peak() (Step, bool) {
	if len(s.Steps) == 0 {
		return Step{}, false
	}
	best := s.Steps[0]
	for _, st := range s.Steps[1:] {
		if st.Throughput > best.Throughput {
			best = st
		}
	}
	return best, true
}

// Search is where a series found saturation.
type Search struct {
	// Lo is the highest offered rate served unsaturated below Hi, 0 if none was; Hi the lowest
	// rate that saturated, 0 if none did (the sweep reached its maximum).
	Lo, Hi float64
	// Sustained is the step at Lo: its throughput is the sustained throughput. OK is false
	// when no step was served unsaturated.
	Sustained Step
	OK        bool
}

// Search returns the interval in which the series saturated. It is derived from the steps, so
// that a run of version 1 (no bisection) gets the interval its sweep found.
func (s Series) Search() Search {
	var out Search
	for _, st := range s.Steps {
		if st.Saturated && (out.Hi == 0 || st.Offered < out.Hi) {
			out.Hi = st.Offered
		}
	}
	for _, st := range s.Steps {
		if !st.Saturated && (out.Hi == 0 || st.Offered < out.Hi) && st.Offered > out.Lo {
			out.Lo, out.Sustained, out.OK = st.Offered, st, true
		}
	}
	return out
}

// HitRate returns the series' steady hit rate: total hits over total lookups of its unsaturated
// sweep steps, or of all its steps when there are none. A loaded system loses hits for reasons of
// its own (slow misses let uploads revoke their fills), and the search's steps all sit at the edge
// of saturation. It returns the lookups counted too, and false when there were none.
func (s Series) HitRate() (rate float64, gets int64, ok bool) {
	var hits int64
	for _, all := range []bool{false, true} {
		for _, st := range s.Steps {
			if st.CacheStats && (all || !st.Saturated && st.InSweep()) {
				gets += st.CacheGets
				hits += st.CacheHits
			}
		}
		if gets > 0 {
			return float64(hits) / float64(gets), gets, true
		}
	}
	return 0, 0, false
}

// Limits decide when a step counts as saturated. The zero value of a field means its default.
type Limits struct {
	MinAchieved  float64       `json:"min_achieved"`   // achieved under this share of offered
	MaxErrorRate float64       `json:"max_error_rate"` // errors over this share of requests
	MaxP99       time.Duration `json:"max_p99_ns"`     // p99 of all requests over this
}

// Defaults of Limits.
const (
	DefaultMinAchieved  = 0.9
	DefaultMaxErrorRate = 0.01
	DefaultMaxP99       = time.Second
)

// WithDefaults fills the zero fields with the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MinAchieved == 0 {
		l.MinAchieved = DefaultMinAchieved
	}
	if l.MaxErrorRate == 0 {
		l.MaxErrorRate = DefaultMaxErrorRate
	}
	if l.MaxP99 == 0 {
		l.MaxP99 = DefaultMaxP99
	}
	return l
}

// Check returns why s is saturated, or nothing when it is not.
func (l Limits) Check(s Step) []string {
	l = l.WithDefaults()
	var why []string
	if s.Throughput < l.MinAchieved*s.Offered {
		why = append(why, fmt.Sprintf("achieved %.0f/s < %.0f%% of offered %.0f/s", s.Throughput, 100*l.MinAchieved, s.Offered))
	}
	if e := s.ErrorRate(); e > l.MaxErrorRate {
		why = append(why, fmt.Sprintf("errors %.1f%% > %.1f%%", 100*e, 100*l.MaxErrorRate))
	}
	if s.All.P99 > l.MaxP99 {
		why = append(why, fmt.Sprintf("p99 %v > %v", s.All.P99.Round(time.Millisecond), l.MaxP99))
	}
	return why
}

// Params are the settings of a run, as reports show them.
type Params struct {
	Quick      bool   `json:"quick"`
	Target     string `json:"target"`
	Memcache   string `json:"memcache,omitempty"`
	Managed    bool   `json:"managed"`    // loadgen started the services itself
	Workload   string `json:"workload"`   // "default", a YCSB preset, or "trace"
	Popularity string `json:"popularity"` // the read keys' law, e.g. "zipf(s=1.1)", or the trace
	// WriteKeys is where writes go: "same" (the read law), "uniform" or "new" (keys no read asks for).
	WriteKeys     string   `json:"write_keys,omitempty"`
	Seed          uint64   `json:"seed"`
	Mixes         []Mix    `json:"mixes"`
	Policies      []string `json:"policies"`
	Repeat        int      `json:"repeat,omitempty"` // runs of each cell; 0 (version 1) means 1
	CacheFraction float64  `json:"cache_fraction"`
	CapacityMB    int      `json:"capacity_mb"`
	StartRate     float64  `json:"start_rate"`
	RateFactor    float64  `json:"rate_factor"`
	MaxRate       float64  `json:"max_rate"`
	// Resolution and SearchSteps bound the bisection: it stops once (hi-lo)/lo is at most
	// Resolution or after SearchSteps steps.
	Resolution  float64       `json:"resolution,omitempty"`
	SearchSteps int           `json:"search_steps,omitempty"`
	Warmup      time.Duration `json:"warmup_ns"`
	Duration    time.Duration `json:"duration_ns"`
	Timeout     time.Duration `json:"timeout_ns"`
	MaxWorkers  uint64        `json:"max_workers"`
	Limits      Limits        `json:"limits"`
	// HeavyLoad is the outside load, in CPUs, above which a step is flagged.
	HeavyLoad float64 `json:"heavy_load,omitempty"`
}

// Repeats returns the runs of each cell, at least 1.
func (p Params) Repeats() int { return max(p.Repeat, 1) }

// Machine describes where the run happened.
type Machine struct {
	CPUModel  string `json:"cpu_model"`
	CPUs      int    `json:"cpus"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	GoVersion string `json:"go_version"`
	Commit    string `json:"commit"`
	Database  string `json:"database"`
	Hostname  string `json:"hostname"`
}

// DatasetInfo summarises a data set for reports.
type DatasetInfo struct {
	Images      int    `json:"images"`
	Seed        uint64 `json:"seed"`
	PNG         int    `json:"png"`
	JPEG        int    `json:"jpeg"`
	Bytes       int64  `json:"bytes"`        // sum of file sizes
	StoredBytes int64  `json:"stored_bytes"` // what the cache would hold for all of it: base64 values plus keys
	MinBytes    int    `json:"min_bytes"`
	MedianBytes int    `json:"median_bytes"`
	MaxBytes    int    `json:"max_bytes"`
}

// Curve is a miss-ratio curve, told as hit rates: one policy's hit rate at each cache size.
type Curve struct {
	Policy string `json:"policy"` // "LRU", "Random", ... as series name them, or CurveBelady
	// HitRates are the hit rates (hits over reads) at the sizes of the MRC, in the same order.
	HitRates []float64 `json:"hit_rates"`
}

// CurveBelady names the curve of Belady's offline MIN.
const CurveBelady = "belady"

// MRC is the miss-ratio curves of one mix, simulated over the key trace the run sent for it.
type MRC struct {
	Mix Mix `json:"mix"`
	// Sizes are the simulated capacities in bytes, rising; Fractions the same as shares of
	// DataBytes.
	Sizes     []int64   `json:"sizes"`
	Fractions []float64 `json:"fractions"`
	DataBytes int64     `json:"data_bytes"` // what the cache holds for every key of the trace
	Curves    []Curve   `json:"curves"`
	// Traces, Requests and Reads count what was simulated: the mix's series, each replayed from
	// an empty cache as the run cleared it before each series.
	Traces   int   `json:"traces"`
	Requests int64 `json:"requests"`
	Reads    int64 `json:"reads"`
	Keys     int   `json:"keys"` // distinct keys
	// SampleRate is 1 for an exact simulation, else the share of keys SHARDS kept.
	SampleRate float64 `json:"sample_rate"`
	// Truncated is set when a trace was longer than loadgen records; the curves cover its start.
	Truncated bool `json:"truncated,omitempty"`
}

// Curve returns the curve of policy.
func (m MRC) Curve(policy string) (Curve, bool) {
	for _, c := range m.Curves {
		if c.Policy == policy {
			return c, true
		}
	}
	return Curve{}, false
}

// Results is everything a run measured; reports render it and results.json stores it.
type Results struct {
	Version  int         `json:"version"`
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished"`
	Command  []string    `json:"command,omitempty"` // the command line of the run
	Params   Params      `json:"params"`
	Dataset  DatasetInfo `json:"dataset"`
	Machine  Machine     `json:"machine"`
	Series   []Series    `json:"series"` // in run order
	MRC      []MRC       `json:"mrc,omitempty"`
	// MRCTime is how long the miss-ratio curves took to compute.
	MRCTime time.Duration `json:"mrc_time_ns,omitempty"`
	// Error is why the run ended early, if it did; the series hold what was measured before.
	Error string `json:"error,omitempty"`
}

// Cell is one mix and policy of the run matrix.
type Cell struct {
	Mix    Mix
	Policy string
}

// Cells returns the cells present, mixes in run order and the policies of each in run order.
func (r *Results) Cells() []Cell {
	var out []Cell
	for _, mix := range r.Mixes() {
		seen := map[string]bool{}
		for _, s := range r.Series {
			if s.Mix == mix && !seen[s.Policy] {
				seen[s.Policy] = true
				out = append(out, Cell{mix, s.Policy})
			}
		}
	}
	return out
}

// Runs returns the series of mix and policy, one for each repeat, in run order.
func (r *Results) Runs(mix Mix, policy string) []Series {
	var out []Series
	for _, s := range r.Series {
		if s.Mix == mix && s.Policy == policy {
			out = append(out, s)
		}
	}
	return out
}

// Mixes returns the mixes present, in the order they first ran.
func (r *Results) Mixes() []Mix {
	var out []Mix
	seen := map[Mix]bool{}
	for _, s := range r.Series {
		if !seen[s.Mix] {
			seen[s.Mix] = true
			out = append(out, s.Mix)
		}
	}
	return out
}

// MRCOf returns the miss-ratio curves of mix.
func (r *Results) MRCOf(mix Mix) (MRC, bool) {
	for _, m := range r.MRC {
		if m.Mix == mix {
			return m, true
		}
	}
	return MRC{}, false
}

// WriteFile stores the results as indented JSON, atomically.
func (r *Results) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".results-*.json")
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write results: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// Decode reads results from JSON: version 2, or version 1, whose fields version 2 keeps.
func Decode(b []byte) (*Results, error) {
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r.Version != Version && r.Version != 1 {
		return nil, fmt.Errorf("version %d, want 1 or %d: %w", r.Version, Version, ErrBadConfig)
	}
	for i, s := range r.Series {
		if s.Mix.Reads+s.Mix.Writes == 0 {
			return nil, fmt.Errorf("series %d has no mix: %w", i, ErrBadConfig)
		}
	}
	for _, m := range r.MRC {
		if m.Mix.Reads+m.Mix.Writes == 0 {
			return nil, fmt.Errorf("curves without a mix: %w", ErrBadConfig)
		}
		if len(m.Fractions) != len(m.Sizes) {
			return nil, fmt.Errorf("curves of %s: %d fractions for %d sizes: %w", m.Mix, len(m.Fractions), len(m.Sizes), ErrBadConfig)
		}
		for _, c := range m.Curves {
			if len(c.HitRates) != len(m.Sizes) {
				return nil, fmt.Errorf("curve %s of %s: %d hit rates for %d sizes: %w", c.Policy, m.Mix, len(c.HitRates), len(m.Sizes), ErrBadConfig)
			}
		}
	}
	return &r, nil
}

// ReadFile loads results written by WriteFile.
func ReadFile(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	r, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	return r, nil
}
