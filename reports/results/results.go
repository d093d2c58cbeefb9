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
	// PhaseConfirm is one step three times as long at the cell's sustained rate, in its last run.
	PhaseConfirm = "confirm"
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

// Params are the settings of a run, as reports show them.
type Params struct {
	Quick    bool   `json:"quick"`
	Target   string `json:"target"`
	Memcache string `json:"memcache,omitempty"`
	Managed  bool   `json:"managed"` // loadgen started the services itself
	// Storage is the backends' image store, "file" or "s3", when known (loadgen started them);
	// Backends the number of backends the requests were spread over, Nodes the memcache pool's
	// active nodes. Zero in results written before they were recorded: unknown.
	Storage    string `json:"storage,omitempty"`
	Backends   int    `json:"backends,omitempty"`
	Nodes      int    `json:"nodes,omitempty"`
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

	// StorageModel is the network model loadgen put between the backends and the store, e.g.
	// "20ms before each response's first byte" (loadgen/proxy); "" none.
	StorageModel string `json:"storage_model,omitempty"`
	// Pinned says where loadgen and the services ran when they were on disjoint CPUs ("" not).
	Pinned string `json:"pinned,omitempty"`
}

// PoolBytes is the cache the run's pool holds at capacityMB a node: nodes × node size, so that a
// pool's hit rate sits on the miss-ratio curves where a single cache of the pool's size would.
func (p Params) PoolBytes(capacityMB int) int64 {
	return int64(capacityMB) << 20 * int64(max(p.Nodes, 1))
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
