package loadgen_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"imgcache/loadgen"
	"imgcache/loadgen/cpuload"
	"imgcache/loadgen/loadgentest"
	"imgcache/reports/results"
)

var quiet = slog.New(slog.DiscardHandler)

func TestRates(t *testing.T) {
	for _, tc := range []struct {
		start, factor, max float64
		want               []float64
	}{
		{50, 2, 6400, []float64{50, 100, 200, 400, 800, 1600, 3200, 6400}},
		{50, 2, 6000, []float64{50, 100, 200, 400, 800, 1600, 3200}},
		{100, 4, 400, []float64{100, 400}},
		{10, 1.5, 40, []float64{10, 15, 23, 34}},
	} {
		if got := loadgen.Rates(tc.start, tc.factor, tc.max); !slices.Equal(got, tc.want) {
			t.Errorf("Rates(%g, %g, %g) = %v, want %v", tc.start, tc.factor, tc.max, got, tc.want)
		}
	}
}

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want results.Mix
		err  bool
	}{
		{"80:20", results.Mix{Reads: 80, Writes: 20}, false},
		{" 1:3 ", results.Mix{Reads: 1, Writes: 3}, false},
		{"100:0", results.Mix{Reads: 100}, false},
		{"0:0", results.Mix{}, true},
		{"80/20", results.Mix{}, true},
		{"-1:2", results.Mix{}, true},
	} {
		got, err := results.ParseMix(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseMix(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if got := (results.Mix{Reads: 1, Writes: 3}).ReadFraction(); got != 0.25 {
		t.Errorf("ReadFraction of 1:3 = %g, want 0.25", got)
	}
}

func TestNormalizePolicy(t *testing.T) {
	for in, want := range map[string]string{
		"LRU": results.PolicyLRU, "Least Recently Used": results.PolicyLRU, "random": results.PolicyRandom,
		"RR": results.PolicyRandom, "Random Replacement": results.PolicyRandom, "off": results.PolicyOff,
		"sieve": results.PolicySIEVE, "SIEVE": results.PolicySIEVE, "S3-FIFO": results.PolicyS3FIFO,
		"s3fifo": results.PolicyS3FIFO,
	} {
		if got, err := loadgen.NormalizePolicy(in); got != want || err != nil {
			t.Errorf("NormalizePolicy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := loadgen.NormalizePolicy("FIFO"); !errors.Is(err, loadgen.ErrBadConfig) {
		t.Errorf("NormalizePolicy(FIFO) error = %v, want ErrBadConfig", err)
	}
}

func TestCapacityFor(t *testing.T) {
	for _, tc := range []struct {
		stored int64
		frac   float64
		want   int
	}{
		{40 << 20, 0.25, 10},
		{35638876, 0.25, 8},
		{1 << 20, 0.25, 1}, // never below 1 MB: 0 would turn caching off
	} {
		if got := loadgen.CapacityFor(results.DatasetInfo{StoredBytes: tc.stored}, tc.frac); got != tc.want {
			t.Errorf("CapacityFor(%d bytes, %g) = %d, want %d", tc.stored, tc.frac, got, tc.want)
		}
	}
}

// The sweep steps up until a step saturates, and not past it, against a fake service that
// serves at most 400 requests a second (2 at a time, 5 ms each). The steps below it offer a
// quarter of that or less, so that they hold on a busy machine under -race too.
func TestRunSaturation(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{Concurrency: 2, Delay: 5 * time.Millisecond})
	var progress bytes.Buffer
	cfg := loadgen.Config{
		BackendURL: env.backend.URL, MemcacheURLs: []string{env.memcache.URL},
		Dataset:   loadgen.DatasetConfig{Images: 8, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
		Mixes:     []results.Mix{{Reads: 50, Writes: 50}},
		Policies:  []string{"LRU", "off"},
		StartRate: 20, RateFactor: 5, MaxRate: 5000, Repeat: 1, SearchSteps: -1,
		Warmup: 100 * time.Millisecond, Duration: 500 * time.Millisecond,
		Progress: &progress, Logger: quiet,
	}
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	if len(res.Series) != 2 {
		t.Fatalf("%d series, want 2", len(res.Series))
	}
	for _, s := range res.Series {
		// The last run of a full run (not -quick) confirms the sustained rate with a step three
		// times as long.
		last := s.Steps[len(s.Steps)-1]
		s.Steps = s.Steps[:len(s.Steps)-1]
		if lo := s.Search().Lo; last.Phase != results.PhaseConfirm || last.Offered != lo || last.Duration < time.Second {
			t.Errorf("%s: last step %s at %g/s for %v, want a confirmation at the sustained %g/s for about 1.5 s", s.Policy, last.Phase, last.Offered, last.Duration, lo)
		}
		var offered []float64
		for _, st := range s.Steps {
			offered = append(offered, st.Offered)
		}
		if want := []float64{20, 100, 500}; !slices.Equal(offered, want) {
			t.Errorf("%s: offered %v, want %v (stop at the first saturated step)", s.Policy, offered, want)
			continue
		}
		for i, st := range s.Steps {
			if st.Saturated != (i == 2) {
				t.Errorf("%s at %g/s: saturated %v (%q), want %v", s.Policy, st.Offered, st.Saturated, st.Reasons, i == 2)
			}
		}
		if last := s.Steps[2]; len(last.Reasons) == 0 || !strings.Contains(last.Reasons[0], "achieved") || last.Throughput > 450 {
			t.Errorf("%s at 500/s: throughput %.0f, reasons %q; want about 400 and achieved < 90%%", s.Policy, last.Throughput, last.Reasons)
		}
		if peak, _ := s.Peak(); peak.Throughput < 95 {
			t.Errorf("%s: peak throughput %.0f, want at least the 100/s step's", s.Policy, peak.Throughput)
		}
	}
	c := env.fake.Counts()
	capMB := res.Params.CapacityMB
	// Set for each series, then put back as found (a fresh memcache's 10 MB LRU).
	want := []loadgentest.Props{{CapacityMB: capMB, Policy: "LRU"}, {CapacityMB: 0, Policy: "LRU"}, {CapacityMB: 10, Policy: "LRU"}}
	if !slices.Equal(c.Props, want) {
		t.Errorf("cache properties set %v, want %v", c.Props, want)
	}
	if c.Clears != 2 || c.Keys != 8 {
		t.Errorf("cache cleared %d times, %d keys stored; want 2 and 8", c.Clears, c.Keys)
	}
	if lru := res.Runs(results.Mix{Reads: 50, Writes: 50}, results.PolicyLRU)[0]; lru.CapacityMB != capMB || capMB < 1 {
		t.Errorf("LRU series capacity %d MB, run capacity %d MB", lru.CapacityMB, capMB)
	}
	if off := res.Runs(results.Mix{Reads: 50, Writes: 50}, results.PolicyOff)[0]; off.CapacityMB != 0 {
		t.Errorf("cache-off series capacity %d MB, want 0", off.CapacityMB)
	} else if _, _, ok := off.HitRate(); ok {
		t.Error("cache-off series has a hit rate, want none (no lookups)")
	}
	if n := strings.Count(progress.String(), "rate "); n != 6 {
		t.Errorf("progress has %d step lines, want 6:\n%s", n, progress.String())
	}
	if !strings.Contains(progress.String(), "SATURATED") || !strings.Contains(progress.String(), "left ~") {
		t.Errorf("progress lacks the saturation mark or the time left:\n%s", progress.String())
	}
}

func TestRunCancel(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cfg := loadgen.Config{
		BackendURL: env.backend.URL, MemcacheURLs: []string{env.memcache.URL},
		Dataset:  loadgen.DatasetConfig{Images: 4, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
		Policies: []string{"LRU"}, StartRate: 50, MaxRate: 50, Duration: 200 * time.Millisecond, Logger: quiet,
		Repeat: 1,
		Progress: progressFunc(func(p []byte) {
			if bytes.Contains(p, []byte("rate ")) {
				cancel() // after the first step
			}
		}),
	}
	res, err := loadgen.Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	if len(res.Series) != 1 || len(res.Series[0].Steps) != 1 || res.Error == "" {
		t.Errorf("partial results: %d series, error %q; want the first series with its one step", len(res.Series), res.Error)
	}
}

type progressFunc func([]byte)

func (f progressFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// A cache configuration that does not take effect makes the results meaningless: Run stops.
func TestRunCacheNotApplied(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"success":"true","capacity_mb":10,"policy":"Least Recently Used"}`))
	}))
	defer stuck.Close()
	cfg := loadgen.Config{
		BackendURL: env.backend.URL, MemcacheURLs: []string{stuck.URL},
		Dataset:  loadgen.DatasetConfig{Images: 4, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
		Policies: []string{"Random"}, CapacityMB: 3, StartRate: 50, MaxRate: 50, Duration: 200 * time.Millisecond,
		Logger: quiet,
	}
	_, err := loadgen.Run(context.Background(), cfg)
	if !errors.Is(err, loadgen.ErrService) || !strings.Contains(err.Error(), "reports 10 MB") {
		t.Errorf("Run error = %v, want ErrService about the capacity", err)
	}
}

func TestRunBadConfig(t *testing.T) {
	for name, cfg := range map[string]loadgen.Config{
		"no target":          {},
		"falling rates":      {BackendURL: "http://127.0.0.1:1", StartRate: 100, MaxRate: 50},
		"unknown policy":     {BackendURL: "http://127.0.0.1:1", Policies: []string{"FIFO"}},
		"unknown write keys": {BackendURL: "http://127.0.0.1:1", WriteKeys: "sideways"},
		"negative repeat":    {BackendURL: "http://127.0.0.1:1", Repeat: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadgen.Run(context.Background(), cfg); !errors.Is(err, loadgen.ErrBadConfig) {
				t.Errorf("Run error = %v, want ErrBadConfig", err)
			}
		})
	}
}

func TestNextProbe(t *testing.T) {
	for _, tc := range []struct {
		name        string
		lo, hi, res float64
		want        float64
		ok          bool
	}{
		{"halves the ratio", 800, 1600, 0.05, 1131, true},
		{"within resolution", 1000, 1040, 0.05, 0, false},
		{"just outside", 1000, 1060, 0.05, 1030, true},
		{"nothing served", 0, 200, 0.05, 0, false},
		{"never saturated", 6400, 0, 0.05, 0, false},
		{"no whole rate between", 10, 11, 0.01, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := loadgen.NextProbe(tc.lo, tc.hi, tc.res)
			if got != tc.want || ok != tc.ok {
				t.Errorf("NextProbe(%g, %g, %g) = %g, %v; want %g, %v", tc.lo, tc.hi, tc.res, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// The search bisects between the last rate served and the first saturated, within its budget.
// What saturates depends on the machine, so the test checks the search's moves, not its figure.
func TestRunSearch(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{Concurrency: 2, Delay: 5 * time.Millisecond})
	var progress bytes.Buffer
	cfg := loadgen.Config{
		BackendURL: env.backend.URL, MemcacheURLs: []string{env.memcache.URL},
		Dataset:   loadgen.DatasetConfig{Images: 8, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
		Mixes:     []results.Mix{{Reads: 50, Writes: 50}},
		Policies:  []string{"LRU"},
		StartRate: 50, RateFactor: 16, MaxRate: 5000, Repeat: 1, SearchSteps: 3, Resolution: 0.01,
		Warmup: 100 * time.Millisecond, Duration: 400 * time.Millisecond,
		Progress: &progress, Logger: quiet,
	}
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	s := res.Series[0]
	var lo, hi float64
	var searched int
	for _, st := range s.Steps {
		if st.Phase == results.PhaseConfirm {
			continue
		}
		if st.InSweep() {
			if st.Saturated {
				hi = st.Offered
			} else {
				lo = st.Offered
			}
			continue
		}
		searched++
		if st.Phase != results.PhaseSearch || st.Offered <= lo || st.Offered >= hi {
			t.Errorf("search step at %g/s (%s) outside the interval (%g, %g)", st.Offered, st.Phase, lo, hi)
		}
		if st.Saturated {
			hi = st.Offered
		} else {
			lo = st.Offered
		}
	}
	if hi == 0 {
		t.Fatalf("nothing saturated at up to 5000/s against a fake serving 400/s:\n%s", progress.String())
	}
	if lo > 0 && searched != 3 {
		t.Errorf("%d search steps, want the budget's 3 (the resolution is finer than 3 halvings reach)", searched)
	}
	if got := s.Search(); (got.Lo != lo || got.Hi != hi) && !(got.Confirmed && got.Confirm.Saturated) {
		t.Errorf("Search() = [%g, %g], want the search's last interval [%g, %g]", got.Lo, got.Hi, lo, hi)
	}
	if !strings.Contains(progress.String(), "rate?") {
		t.Errorf("progress does not mark the search steps:\n%s", progress.String())
	}
}

// When the first rate already saturates, the search steps down the sweep's way until a rate is
// served: here a fake serving 100 requests a second is offered 1600, then 200 (twice what it
// serves), then 25 (a quarter, which holds on a busy machine under -race).
func TestRunSearchDown(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{Concurrency: 1, Delay: 10 * time.Millisecond})
	var progress bytes.Buffer
	cfg := loadgen.Config{
		BackendURL: env.backend.URL, MemcacheURLs: []string{env.memcache.URL},
		Dataset:   loadgen.DatasetConfig{Images: 4, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
		Mixes:     []results.Mix{{Reads: 50, Writes: 50}},
		Policies:  []string{"LRU"},
		StartRate: 1600, RateFactor: 8, MaxRate: 1600, Repeat: 1, SearchSteps: 2,
		Warmup: 100 * time.Millisecond, Duration: 400 * time.Millisecond,
		Progress: &progress, Logger: quiet,
	}
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	var offered []float64
	for _, st := range res.Series[0].Steps {
		if st.Phase != results.PhaseConfirm {
			offered = append(offered, st.Offered)
		}
	}
	if want := []float64{1600, 200, 25}; !slices.Equal(offered, want) {
		t.Errorf("offered %v, want %v (1600 saturates, then down by the factor of 8 until served)\n%s", offered, want, progress.String())
	}
	// The confirmation (three times as long) may fail on a busy machine; the search's own
	// interval is that of the other steps.
	s := res.Series[0]
	s.Steps = slices.DeleteFunc(slices.Clone(s.Steps), func(st results.Step) bool { return st.Phase == results.PhaseConfirm })
	if f := s.Search(); !f.OK || f.Lo != 25 || f.Hi != 200 {
		t.Errorf("Search() = %+v, want served at 25, saturated at 200\n%s", f, progress.String())
	}
}

// Repeats run every cell once a round, forward then backward, and each repeat draws its own
// keys, the same for every policy of a mix. The miss-ratio curves come from all of it.
func TestRunRepeatsAndCurves(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{})
	cfg := loadgen.Config{
		BackendURL: env.backend.URL, MemcacheURLs: []string{env.memcache.URL},
		Dataset:   loadgen.DatasetConfig{Images: 6, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
		Mixes:     []results.Mix{{Reads: 50, Writes: 50}, {Reads: 80, Writes: 20}},
		Policies:  []string{"LRU", "off"},
		StartRate: 20, MaxRate: 20, Repeat: 2,
		Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond, Logger: quiet,
	}
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range res.Series {
		order = append(order, fmt.Sprintf("%s %s %d", s.Mix, s.Policy, s.Repeat))
	}
	want := []string{"50:50 LRU 0", "50:50 off 0", "80:20 LRU 0", "80:20 off 0", "80:20 off 1", "80:20 LRU 1", "50:50 off 1", "50:50 LRU 1"}
	if !slices.Equal(order, want) {
		t.Errorf("series in order %q, want %q", order, want)
	}
	for _, s := range res.Series {
		if s.Seed != 1+uint64(s.Repeat) {
			t.Errorf("%s %s run %d: seed %d, want %d", s.Mix, s.Policy, s.Repeat, s.Seed, 1+s.Repeat)
		}
		for _, st := range s.Steps {
			if !st.Load.OK && runtime.GOOS == "linux" {
				t.Errorf("%s %s: no load measured", s.Mix, s.Policy)
			}
		}
	}
	if len(res.MRC) != 2 || res.MRCTime <= 0 {
		t.Fatalf("%d miss-ratio curve sets in %v, want one a mix", len(res.MRC), res.MRCTime)
	}
	for _, m := range res.MRC {
		if m.Traces != 4 || m.Reads == 0 || len(m.Curves) < 3 || len(m.Sizes) < 16 {
			t.Errorf("%s: %d traces, %d reads, %d curves at %d sizes; want 4 traces (2 policies × 2 repeats) and the curves",
				m.Mix, m.Traces, m.Reads, len(m.Curves), len(m.Sizes))
		}
		if !slices.Contains(m.Sizes, int64(res.Params.CapacityMB)<<20) {
			t.Errorf("%s: sizes %v lack the live capacity %d MB", m.Mix, m.Sizes, res.Params.CapacityMB)
		}
	}
}

// fakeLoad is a machine where, between two readings, both CPUs are busy for 100 ticks and
// loadgen's processes take 50 of them: 1.5 CPUs of outside work.
type fakeLoad struct {
	mu sync.Mutex
	n  uint64
}

func (f *fakeLoad) Snapshot() cpuload.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return cpuload.Snapshot{OK: true, CPUs: 2, Total: 200 * f.n, Own: map[int]uint64{1: 50 * f.n}}
}

// A step beside more outside work than HeavyLoad is flagged, and one beside less is not.
func TestRunHeavyLoad(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{})
	for _, tc := range []struct {
		heavy float64
		want  bool
	}{{1, true}, {1.9, false}} {
		t.Run(fmt.Sprint(tc.heavy), func(t *testing.T) {
			cfg := loadgen.Config{
				BackendURL: env.backend.URL, MemcacheURLs: []string{env.memcache.URL},
				Dataset: loadgen.DatasetConfig{Images: 4, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
				Mixes:   []results.Mix{{Reads: 1, Writes: 1}}, Policies: []string{"LRU"},
				StartRate: 20, MaxRate: 20, Repeat: 1, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond,
				Load: &fakeLoad{}, HeavyLoad: tc.heavy, Logger: quiet,
			}
			res, err := loadgen.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			st := res.Series[0].Steps[0]
			if !st.Load.OK || st.Load.Outside != 1.5 || st.Load.Own != 0.5 || st.Load.Heavy != tc.want {
				t.Errorf("load %+v, want 1.5 CPUs outside, 0.5 own, heavy %v", st.Load, tc.want)
			}
			// A busy step is run again once, and flagged if the second try was busy too.
			if st.Retried != tc.want {
				t.Errorf("retried %v, want %v", st.Retried, tc.want)
			}
			if res.Params.HeavyLoad != tc.heavy {
				t.Errorf("params record heavy load %g, want %g", res.Params.HeavyLoad, tc.heavy)
			}
		})
	}
}

func TestApplyWorkload(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   loadgen.Config
		in    string
		mixes []results.Mix
		err   bool
	}{
		{"default", loadgen.Config{}, "default", nil, false},
		{"ycsb-b", loadgen.Config{}, "ycsb-b", []results.Mix{{Reads: 95, Writes: 5}}, false},
		{"a and c", loadgen.Config{}, "ycsb-a, ycsb-c", []results.Mix{{Reads: 50, Writes: 50}, {Reads: 100}}, false},
		{"all of ycsb", loadgen.Config{}, "ycsb", []results.Mix{{Reads: 50, Writes: 50}, {Reads: 95, Writes: 5}, {Reads: 100}}, false},
		{"unknown", loadgen.Config{}, "ycsb-z", nil, true},
		{"with mixes set", loadgen.Config{Mixes: []results.Mix{{Reads: 1, Writes: 1}}}, "ycsb-a", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			err := loadgen.ApplyWorkload(&cfg, tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("ApplyWorkload(%q) error %v, want error %v", tc.in, err, tc.err)
			}
			if err != nil {
				if !errors.Is(err, loadgen.ErrBadConfig) {
					t.Errorf("error %v is not ErrBadConfig", err)
				}
				return
			}
			if !slices.Equal(cfg.Mixes, tc.mixes) {
				t.Errorf("mixes %v, want %v", cfg.Mixes, tc.mixes)
			}
			if tc.mixes != nil && (cfg.ZipfS != loadgen.YCSBZipfS || cfg.WriteKeys != loadgen.WriteKeysSame) {
				t.Errorf("zipf %g, write keys %q; want YCSB's %g, same", cfg.ZipfS, cfg.WriteKeys, loadgen.YCSBZipfS)
			}
		})
	}
}

// A trace replay uploads an image a key of the trace, sized after its values, and sends the
// trace's requests in order.
func TestRunTrace(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{})
	var cfg loadgen.Config
	if err := loadgen.LoadTrace(&cfg, "testdata/trace-small.csv", loadgen.DefaultTraceMaxKeys); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Mixes) != 1 || cfg.Mixes[0] != (results.Mix{Reads: 90, Writes: 10}) {
		t.Errorf("trace mix %v, want the trace's 90:10", cfg.Mixes)
	}
	cfg.BackendURL, cfg.MemcacheURLs = env.backend.URL, []string{env.memcache.URL}
	cfg.Policies, cfg.StartRate, cfg.MaxRate, cfg.Repeat = []string{"LRU"}, 100, 100, 1
	cfg.Warmup, cfg.Duration, cfg.Logger = 50*time.Millisecond, 300*time.Millisecond, quiet
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Dataset.Images != len(cfg.Trace.Keys) || env.fake.Counts().Keys != len(cfg.Trace.Keys) {
		t.Errorf("%d images, %d keys stored; want the trace's %d keys", res.Dataset.Images, env.fake.Counts().Keys, len(cfg.Trace.Keys))
	}
	if res.Params.Workload != "trace" || !strings.Contains(res.Params.Popularity, "trace-small.csv") {
		t.Errorf("workload %q, popularity %q; want the trace named", res.Params.Workload, res.Params.Popularity)
	}
	if len(res.MRC) != 1 || res.MRC[0].Requests < 10 {
		t.Fatalf("curves %+v, want one set over the requests sent", res.MRC)
	}
	// The requests sent are the trace's first ones.
	m := res.MRC[0]
	if m.Reads > m.Requests || float64(m.Reads)/float64(m.Requests) < 0.7 {
		t.Errorf("%d reads of %d requests, want about the trace's 90%%", m.Reads, m.Requests)
	}
}

// A cell's later runs start at the highest rate of the sweep that its previous run sustained,
// instead of sweeping from the start rate again.
func TestRunNearPrevious(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{})
	var progress bytes.Buffer
	cfg := loadgen.Config{
		BackendURL: env.backend.URL, MemcacheURLs: []string{env.memcache.URL},
		Dataset:   loadgen.DatasetConfig{Images: 8, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
		Mixes:     []results.Mix{{Reads: 50, Writes: 50}},
		Policies:  []string{"LRU"},
		StartRate: 10, RateFactor: 2, MaxRate: 20, Repeat: 2, SearchSteps: -1,
		Warmup: 100 * time.Millisecond, Duration: 500 * time.Millisecond,
		Progress: &progress, Logger: quiet,
	}
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	first, second := res.Series[0], res.Series[1]
	if lo := first.Search().Lo; lo != 20 {
		t.Fatalf("the first run sustained %g/s, want 20 (a fast fake at 10 and 20/s):\n%s", lo, progress.String())
	}
	if got := second.Steps[0].Offered; got != 20 || first.Steps[0].Offered != 10 {
		t.Errorf("first run starts at %g/s, second at %g/s; want 10, then the first run's sustained 20\n%s", first.Steps[0].Offered, got, progress.String())
	}
	if first.Search().Confirmed || !second.Search().Confirmed {
		t.Errorf("confirmation in the first run %v, the last %v; want only the last", first.Search().Confirmed, second.Search().Confirmed)
	}
}
