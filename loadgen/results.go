package loadgen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ResultsVersion is the version of the results.json layout.
const ResultsVersion = 1

// Mix is a read:write ratio, e.g. 80:20.
type Mix struct {
	Reads  int
	Writes int
}

// DefaultMixes are the run matrix's mixes: write-heavy, even, read-heavy.
var DefaultMixes = []Mix{{20, 80}, {50, 50}, {80, 20}}

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

// Step is one measured constant-rate attack.
type Step struct {
	Offered    float64       `json:"offered_rps"`    // the rate asked of vegeta
	Sent       float64       `json:"sent_rps"`       // the rate vegeta managed to send
	Throughput float64       `json:"throughput_rps"` // successful responses a second
	Duration   time.Duration `json:"duration_ns"`    // measured window, warm-up excluded
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
	Saturated         bool     `json:"saturated"`
	Reasons           []string `json:"reasons,omitempty"` // why the step counts as saturated
	VegetaFile        string   `json:"vegeta_file,omitempty"`
}

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

// Series is the rate sweep of one mix and policy.
type Series struct {
	Mix        Mix           `json:"mix"`
	Policy     string        `json:"policy"` // PolicyLRU, PolicyRandom or PolicyOff
	CapacityMB int           `json:"capacity_mb"`
	Upload     time.Duration `json:"upload_ns"` // time to upload the data set before the sweep
	Steps      []Step        `json:"steps"`
	Error      string        `json:"error,omitempty"` // why the series stopped early, if it did
}

// Peak returns the step of highest throughput: the series' saturation throughput. It returns
// false for a series without steps.
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

// HitRate returns the series' steady hit rate: total hits over total lookups of its unsaturated
// steps (an overloaded system loses hits for reasons of its own), or of all its steps when every
// one saturated. It returns the lookups counted too, and false when there were none.
func (s Series) HitRate() (rate float64, gets int64, ok bool) {
	var hits int64
	for _, all := range []bool{false, true} {
		for _, st := range s.Steps {
			if st.CacheStats && (all || !st.Saturated) {
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

// Params are the settings of a run, as reports show them.
type Params struct {
	Quick         bool          `json:"quick"`
	Target        string        `json:"target"`
	Memcache      string        `json:"memcache,omitempty"`
	Managed       bool          `json:"managed"` // loadgen started the services itself
	Popularity    string        `json:"popularity"`
	Seed          uint64        `json:"seed"`
	Mixes         []Mix         `json:"mixes"`
	Policies      []string      `json:"policies"`
	CacheFraction float64       `json:"cache_fraction"`
	CapacityMB    int           `json:"capacity_mb"`
	StartRate     float64       `json:"start_rate"`
	RateFactor    float64       `json:"rate_factor"`
	MaxRate       float64       `json:"max_rate"`
	Warmup        time.Duration `json:"warmup_ns"`
	Duration      time.Duration `json:"duration_ns"`
	Timeout       time.Duration `json:"timeout_ns"`
	MaxWorkers    uint64        `json:"max_workers"`
	Limits        Limits        `json:"limits"`
}

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

// Results is everything a run measured; reports render it and results.json stores it.
type Results struct {
	Version  int         `json:"version"`
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished"`
	Params   Params      `json:"params"`
	Dataset  DatasetInfo `json:"dataset"`
	Machine  Machine     `json:"machine"`
	Series   []Series    `json:"series"`
	// Error is why the run ended early, if it did; the series hold what was measured before.
	Error string `json:"error,omitempty"`
}

// Find returns the series of mix and policy.
func (r *Results) Find(mix Mix, policy string) (Series, bool) {
	for _, s := range r.Series {
		if s.Mix == mix && s.Policy == policy {
			return s, true
		}
	}
	return Series{}, false
}

// Mixes returns the mixes present, in run order.
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

// ReadResults loads results written by WriteFile.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	if r.Version != ResultsVersion {
		return nil, fmt.Errorf("read results %s: version %d, want %d: %w", path, r.Version, ResultsVersion, ErrBadConfig)
	}
	return &r, nil
}
