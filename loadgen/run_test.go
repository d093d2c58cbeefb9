package loadgen_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"imgcache/loadgen"
	"imgcache/loadgen/loadgentest"
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
		want loadgen.Mix
		err  bool
	}{
		{"80:20", loadgen.Mix{Reads: 80, Writes: 20}, false},
		{" 1:3 ", loadgen.Mix{Reads: 1, Writes: 3}, false},
		{"100:0", loadgen.Mix{Reads: 100}, false},
		{"0:0", loadgen.Mix{}, true},
		{"80/20", loadgen.Mix{}, true},
		{"-1:2", loadgen.Mix{}, true},
	} {
		got, err := loadgen.ParseMix(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseMix(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if got := (loadgen.Mix{Reads: 1, Writes: 3}).ReadFraction(); got != 0.25 {
		t.Errorf("ReadFraction of 1:3 = %g, want 0.25", got)
	}
}

func TestNormalizePolicy(t *testing.T) {
	for in, want := range map[string]string{
		"LRU": loadgen.PolicyLRU, "Least Recently Used": loadgen.PolicyLRU, "random": loadgen.PolicyRandom,
		"RR": loadgen.PolicyRandom, "Random Replacement": loadgen.PolicyRandom, "off": loadgen.PolicyOff,
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
		if got := loadgen.CapacityFor(loadgen.DatasetInfo{StoredBytes: tc.stored}, tc.frac); got != tc.want {
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
		BackendURL: env.backend.URL, MemcacheURL: env.memcache.URL,
		Dataset:   loadgen.DatasetConfig{Images: 8, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
		Mixes:     []loadgen.Mix{{Reads: 50, Writes: 50}},
		Policies:  []string{"LRU", "off"},
		StartRate: 20, RateFactor: 5, MaxRate: 5000,
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
	if lru, _ := res.Find(loadgen.Mix{Reads: 50, Writes: 50}, loadgen.PolicyLRU); lru.CapacityMB != capMB || capMB < 1 {
		t.Errorf("LRU series capacity %d MB, run capacity %d MB", lru.CapacityMB, capMB)
	}
	if off, _ := res.Find(loadgen.Mix{Reads: 50, Writes: 50}, loadgen.PolicyOff); off.CapacityMB != 0 {
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
		BackendURL: env.backend.URL, MemcacheURL: env.memcache.URL,
		Dataset:  loadgen.DatasetConfig{Images: 4, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
		Policies: []string{"LRU"}, StartRate: 50, MaxRate: 50, Duration: 200 * time.Millisecond, Logger: quiet,
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
		BackendURL: env.backend.URL, MemcacheURL: stuck.URL,
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
		"no target":      {},
		"falling rates":  {BackendURL: "http://127.0.0.1:1", StartRate: 100, MaxRate: 50},
		"unknown policy": {BackendURL: "http://127.0.0.1:1", Policies: []string{"FIFO"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadgen.Run(context.Background(), cfg); !errors.Is(err, loadgen.ErrBadConfig) {
				t.Errorf("Run error = %v, want ErrBadConfig", err)
			}
		})
	}
}
