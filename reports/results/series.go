package results

import (
	"fmt"
	"time"
)

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
	Verification

	// What the measured window cost (loadgen/cost): CPU time by tier ("backend", "memcache",
	// "storage", "database", "loadgen"), objects read from the image store and queries the
	// backends issued; nil when not measured.
	CPUNs       map[string]int64 `json:"cpu_ns,omitempty"`
	StorageGets *int64           `json:"storage_gets,omitempty"`
	DBQueries   *int64           `json:"db_queries,omitempty"`
	// BacklogGrowth is how much later the window's last request was answered than its first,
	// against the schedule (loadgen/backlog): the work the window left queued, in time.
	BacklogGrowth time.Duration `json:"backlog_growth_ns,omitempty"`
	Retried       bool          `json:"retried,omitempty"` // a first try beside heavy outside load was discarded
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
	// Confirm is the series' confirmation step, three times as long, when it has one (Confirmed
	// set): at the cell's sustained rate, in its last run. A saturated one has already moved Lo
	// below its rate.
	Confirm   Step
	Confirmed bool
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
		if st.Phase == PhaseConfirm {
			out.Confirm, out.Confirmed = st, true
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

	// MaxBacklog: the backlog grew by more than this share of the window (and by more than
	// MinBacklogGrowth): requests were answered ever later, however high the achieved share.
	MaxBacklog float64 `json:"max_backlog,omitempty"`
}

// Defaults of Limits.
const (
	DefaultMinAchieved  = 0.9
	DefaultMaxErrorRate = 0.01
	DefaultMaxP99       = time.Second
	DefaultMaxBacklog   = 0.05
	// MinBacklogGrowth is the growth below which a backlog never counts: a pause of the machine
	// (a collection, a neighbour) makes that much without any lasting queue.
	MinBacklogGrowth = 100 * time.Millisecond
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
	if l.MaxBacklog == 0 {
		l.MaxBacklog = DefaultMaxBacklog
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
	if limit := max(time.Duration(l.MaxBacklog*float64(s.Duration)), MinBacklogGrowth); s.Duration > 0 && s.BacklogGrowth > limit {
		why = append(why, fmt.Sprintf("backlog grew %v over the %v window (> %.0f%%)", s.BacklogGrowth.Round(time.Millisecond), s.Duration.Round(time.Millisecond), 100*l.MaxBacklog))
	}
	if s.All.P99 > l.MaxP99 {
		why = append(why, fmt.Sprintf("p99 %v > %v", s.All.P99.Round(time.Millisecond), l.MaxP99))
	}
	return why
}
