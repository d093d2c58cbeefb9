package results

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mix
		err  bool
	}{
		{"80:20", Mix{80, 20}, false},
		{" 1:3 ", Mix{1, 3}, false},
		{"100:0", Mix{100, 0}, false},
		{"0:0", Mix{}, true},
		{"80/20", Mix{}, true},
		{"-1:2", Mix{}, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMix(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ParseMix(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
			}
			if err != nil && !errors.Is(err, ErrBadConfig) {
				t.Errorf("error %v is not ErrBadConfig", err)
			}
		})
	}
	if got := (Mix{1, 3}).ReadFraction(); got != 0.25 {
		t.Errorf("ReadFraction of 1:3 = %g, want 0.25", got)
	}
}

func TestSearch(t *testing.T) {
	step := func(rate float64, sat bool) Step { return Step{Offered: rate, Throughput: rate, Saturated: sat} }
	for _, tc := range []struct {
		name   string
		steps  []Step
		lo, hi float64
		ok     bool
	}{
		{"bisected", []Step{step(100, false), step(200, false), step(400, true), step(283, false), step(336, true), step(308, false)}, 308, 336, true},
		{"never saturated", []Step{step(100, false), step(200, false)}, 200, 0, true},
		{"first step saturated", []Step{step(100, true)}, 0, 100, false},
		{"stepped down", []Step{step(400, true), step(100, false), step(200, true)}, 100, 200, true},
		// An unsaturated step above a saturated one (a noisy oracle) does not count as served.
		{"noisy", []Step{step(100, false), step(400, true), step(200, true), step(141, false), step(300, false)}, 141, 200, true},
		{"no steps", nil, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Series{Steps: tc.steps}.Search()
			if got.Lo != tc.lo || got.Hi != tc.hi || got.OK != tc.ok || (got.OK && got.Sustained.Offered != tc.lo) {
				t.Errorf("Search() = [%g, %g] ok %v (sustained at %g); want [%g, %g] ok %v", got.Lo, got.Hi, got.OK, got.Sustained.Offered, tc.lo, tc.hi, tc.ok)
			}
		})
	}
}

func TestLimitsCheck(t *testing.T) {
	ok := Step{Offered: 100, Throughput: 99, All: Latency{Requests: 1000, Successes: 1000, P99: 20 * time.Millisecond}}
	slow, errs, behind := ok, ok, ok
	slow.All.P99 = 1500 * time.Millisecond
	errs.All.Successes = 980
	behind.Throughput = 80
	for _, tc := range []struct {
		name string
		step Step
		want []string // a word of each reason
	}{
		{"keeps up", ok, nil},
		{"p99 over a second", slow, []string{"p99"}},
		{"2% errors", errs, []string{"errors"}},
		{"achieved 80%", behind, []string{"achieved"}},
		{"edge: exactly 90%", Step{Offered: 100, Throughput: 90, All: Latency{Requests: 10, Successes: 10}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Limits{}.Check(tc.step)
			if len(got) != len(tc.want) {
				t.Fatalf("Check() = %q, want reasons mentioning %q", got, tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("reason %q does not mention %q", got[i], w)
				}
			}
		})
	}
}

func sample() *Results {
	return &Results{
		Version: Version, Started: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Command: []string{"bin/loadgen", "-quick"},
		Params: Params{Mixes: []Mix{{80, 20}}, Repeat: 3, Resolution: 0.05},
		Series: []Series{
			{Mix: Mix{80, 20}, Policy: PolicyLRU, Repeat: 0, Steps: []Step{{Phase: PhaseSweep, Offered: 100, Load: Load{OK: true, CPUs: 2, Outside: 0.3}}}},
			{Mix: Mix{80, 20}, Policy: PolicyOff, Repeat: 0},
			{Mix: Mix{80, 20}, Policy: PolicyLRU, Repeat: 1},
		},
		MRC: []MRC{{Mix: Mix{80, 20}, Sizes: []int64{1, 2}, Fractions: []float64{0.5, 1}, Curves: []Curve{{Policy: CurveBelady, HitRates: []float64{0.1, 0.2}}}, SampleRate: 1}},
	}
}

func TestWriteAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	res := sample()
	if err := res.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, res) {
		t.Errorf("read back %+v, want %+v", back, res)
	}
	if cells := back.Cells(); len(cells) != 2 || len(back.Runs(Mix{80, 20}, PolicyLRU)) != 2 {
		t.Errorf("cells %v, LRU runs %d; want LRU and off, 2 runs of LRU", cells, len(back.Runs(Mix{80, 20}, PolicyLRU)))
	}
	if m, ok := back.MRCOf(Mix{80, 20}); !ok || len(m.Curves) != 1 {
		t.Errorf("MRCOf = %+v, %v", m, ok)
	}
}

func TestDecodeRejects(t *testing.T) {
	bad := func(change func(*Results)) []byte {
		r := sample()
		change(r)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, b := range map[string][]byte{
		"version 3":             bad(func(r *Results) { r.Version = 3 }),
		"fractions short":       bad(func(r *Results) { r.MRC[0].Fractions = r.MRC[0].Fractions[:1] }),
		"hit rates short":       bad(func(r *Results) { r.MRC[0].Curves[0].HitRates = nil }),
		"mix without a request": []byte(`{"version":2,"series":[{"mix":"0:0"}]}`),
		"not JSON":              []byte(`{"version":`),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(b); err == nil {
				t.Error("Decode succeeded, want an error")
			}
		})
	}
	if r, err := Decode([]byte(`{"version":1,"series":[{"mix":"1:1","policy":"LRU","steps":[{"offered_rps":50}]}]}`)); err != nil || !r.Series[0].Steps[0].InSweep() {
		t.Errorf("version 1: %v; want it read, its steps the sweep's", err)
	}
}

// FuzzDecode: results.json files are handed to loadgen report and compare from anywhere; the
// decoder must never panic, and what it accepts must encode, decode and encode to the same bytes
// (empty and absent lists may trade places on the way).
func FuzzDecode(f *testing.F) {
	b, _ := json.Marshal(sample())
	f.Add(b)
	f.Add([]byte(`{"version":1,"series":[{"mix":"1:1","policy":"LRU","steps":[{"offered_rps":50}]}]}`))
	f.Add([]byte(`{"version":2,"mrc":[{"mix":"1:0","sizes":[1],"fractions":[1],"curves":[{"policy":"x","hit_rates":[2]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("encode what was decoded: %v", err)
		}
		r2, err := Decode(again)
		if err != nil {
			t.Fatalf("decode what was encoded: %v", err)
		}
		if third, _ := json.Marshal(r2); string(third) != string(again) {
			t.Fatalf("encoded %s, then %s", again, third)
		}
	})
}

// The steady hit rate leaves out saturated steps and the search's, which sit at the edge of
// saturation, unless nothing else is left.
func TestSeriesHitRate(t *testing.T) {
	step := func(phase string, sat bool, hits int64) Step {
		return Step{Phase: phase, Saturated: sat, CacheStats: true, CacheGets: 100, CacheHits: hits}
	}
	for _, tc := range []struct {
		name  string
		steps []Step
		want  float64
		ok    bool
	}{
		{"sweep only", []Step{step(PhaseSweep, false, 60), step(PhaseSweep, false, 40), step(PhaseSweep, true, 0), step(PhaseSearch, false, 10)}, 0.5, true},
		{"all saturated", []Step{step(PhaseSweep, true, 20), step(PhaseSearch, true, 40)}, 0.3, true},
		{"no statistics", []Step{{Offered: 1}}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, ok := Series{Steps: tc.steps}.HitRate()
			if got != tc.want || ok != tc.ok {
				t.Errorf("HitRate() = %g, %v; want %g, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// A step whose backlog grew is saturated even when it achieved nearly all it was offered: at
// 1.1× capacity for 5 s, 97% achieved but half a second of work left queued.
func TestLimitsBacklog(t *testing.T) {
	base := Step{Offered: 1000, Throughput: 970, Duration: 5 * time.Second, All: Latency{Requests: 5000, Successes: 5000, P99: 300 * time.Millisecond}}
	for _, tc := range []struct {
		growth, window time.Duration
		saturated      bool
	}{
		{500 * time.Millisecond, 5 * time.Second, true},
		{200 * time.Millisecond, 5 * time.Second, false}, // under 5% of the window
		{120 * time.Millisecond, time.Second, true},
		{90 * time.Millisecond, 500 * time.Millisecond, false}, // under the floor
	} {
		st := base
		st.BacklogGrowth, st.Duration = tc.growth, tc.window
		why := Limits{}.Check(st)
		if (len(why) > 0) != tc.saturated || tc.saturated && !strings.Contains(why[0], "backlog") {
			t.Errorf("growth %v over %v: %q, want saturated %v", tc.growth, tc.window, why, tc.saturated)
		}
	}
}

// The confirmation step is found, and a failed one moves the sustained rate below it.
func TestSearchConfirm(t *testing.T) {
	s := Series{Steps: []Step{
		{Phase: PhaseSweep, Offered: 400}, {Phase: PhaseSweep, Offered: 800}, {Phase: PhaseSweep, Offered: 1600, Saturated: true},
		{Phase: PhaseSearch, Offered: 1131},
	}}
	if f := s.Search(); f.Lo != 1131 || f.Confirmed {
		t.Fatalf("Search = %+v", f)
	}
	s.Steps = append(s.Steps, Step{Phase: PhaseConfirm, Offered: 1131, Saturated: true})
	if f := s.Search(); !f.Confirmed || f.Lo != 800 || f.Hi != 1131 || !f.Confirm.Saturated {
		t.Errorf("after a failed confirmation, Search = %+v; want 800 sustained, 1131 saturated", f)
	}
}
