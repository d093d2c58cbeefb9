package bench

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"imgcache/loadgen"
)

// benchGolden compares got with testdata/name, or rewrites it under -update.
func benchGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, benchFirstDiff(got, want))
	}
}

func benchFirstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got:  %s\n want: %s", i+1, a, b)
		}
	}
	return ""
}

func TestWriteBenchReport(t *testing.T) {
	res := benchFixture(t)
	dir := t.TempDir()
	if err := WriteBenchReport(dir, res); err != nil {
		t.Fatal(err)
	}
	for _, g := range BenchGraphs(res) {
		f, err := os.Open(filepath.Join(dir, g.File))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != 800 || cfg.Height != 500 {
			t.Errorf("%s: %dx%d, %v; want an 800x500 PNG", g.File, cfg.Width, cfg.Height, err)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(pngs) != 6 {
		t.Errorf("%d PNGs written, want 6", len(pngs))
	}

	// results.json round-trips.
	back, err := loadgen.ReadResults(filepath.Join(dir, BenchResultsJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, res) {
		t.Error("results.json read back differs from the results written")
	}

	csvBytes, _ := os.ReadFile(filepath.Join(dir, BenchResultsCSV))
	rows, err := csv.NewReader(bytes.NewReader(csvBytes)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	for _, s := range res.Series {
		steps += len(s.Steps)
	}
	if len(rows) != steps+1 {
		t.Errorf("results.csv has %d rows, want a header and %d steps", len(rows), steps)
	}
	benchGolden(t, "bench_golden_results.csv", csvBytes)

	html, _ := os.ReadFile(filepath.Join(dir, BenchIndexHTML))
	for _, g := range BenchGraphs(res) {
		if !bytes.Contains(html, []byte(`<img src="`+g.File+`"`)) {
			t.Errorf("index.html does not show %s", g.File)
		}
	}
	for _, s := range []string{"AMD EPYC, 2 logical CPUs", "go1.26.8", "0123456789ab", "SQLite", "Checks", "Summary"} {
		if !bytes.Contains(html, []byte(s)) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	benchGolden(t, "bench_golden_index.html", html)
	md, _ := os.ReadFile(filepath.Join(dir, BenchSummaryMD))
	benchGolden(t, "bench_golden_summary.md", md)
}

func TestBenchSummary(t *testing.T) {
	rows := BenchSummary(benchFixture(t))
	if len(rows) != 9 {
		t.Fatalf("%d rows, want 9", len(rows))
	}
	for _, tc := range []struct {
		i                 int
		mix               string
		policy            string
		peak, satAt       float64
		p99               time.Duration
		hit               float64
		hitOK             bool
		reasonMentionings string
	}{
		{0, "20:80", "LRU", 520, 800, 1800 * time.Millisecond, 0.17, true, "achieved"},
		{5, "50:50", "off", 520, 800, 1800 * time.Millisecond, 0, true, "p99"},
		{7, "80:20", "Random", 1040, 1600, 1800 * time.Millisecond, 0.55, true, "p99"},
	} {
		r := rows[tc.i]
		if r.Mix.String() != tc.mix || r.Policy != tc.policy {
			t.Fatalf("row %d is %s %s, want %s %s", tc.i, r.Mix, r.Policy, tc.mix, tc.policy)
		}
		if !r.PeakOK || r.Peak.Throughput != tc.peak || r.SaturatedAt != tc.satAt || r.Peak.All.P99 != tc.p99 {
			t.Errorf("%s %s: peak %.0f/s (p99 %v), saturated at %.0f; want %.0f/s (p99 %v), %.0f",
				tc.mix, tc.policy, r.Peak.Throughput, r.Peak.All.P99, r.SaturatedAt, tc.peak, tc.p99, tc.satAt)
		}
		if r.HitRateOK != tc.hitOK || (r.HitRate-tc.hit) > 0.005 || (tc.hit-r.HitRate) > 0.005 {
			t.Errorf("%s %s: hit rate %.3f (%v), want %.2f", tc.mix, tc.policy, r.HitRate, r.HitRateOK, tc.hit)
		}
		// Sustained: the step before the saturated one, offering half its rate.
		if !r.SustainedOK || r.Sustained.Offered != tc.satAt/2 || r.Sustained.Saturated {
			t.Errorf("%s %s: sustained step at %.0f/s (%v), want %.0f", tc.mix, tc.policy, r.Sustained.Offered, r.SustainedOK, tc.satAt/2)
		}
		if !strings.Contains(strings.Join(r.Reasons, ";"), tc.reasonMentionings) {
			t.Errorf("%s %s: reasons %q lack %q", tc.mix, tc.policy, r.Reasons, tc.reasonMentionings)
		}
	}
}

func benchResultsWith(hits map[string]float64, readP50 map[string]time.Duration) *loadgen.Results {
	res := &loadgen.Results{}
	for _, mix := range []loadgen.Mix{{Reads: 20, Writes: 80}, {Reads: 80, Writes: 20}} {
		for _, p := range []string{loadgen.PolicyLRU, loadgen.PolicyRandom, loadgen.PolicyOff} {
			s := loadgen.Series{Mix: mix, Policy: p}
			for _, rate := range []float64{50, 100} {
				s.Steps = append(s.Steps, loadgen.Step{
					Offered: rate, Throughput: rate, CacheStats: true, CacheGets: 1000, CacheHits: int64(1000 * hits[p]),
					Reads: loadgen.Latency{Requests: 100, P50: readP50[p], P99: 4 * readP50[p]},
				})
			}
			res.Series = append(res.Series, s)
		}
	}
	return res
}

func TestBenchChecks(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		res  *loadgen.Results
		want []string // outcomes: two hit-rate checks, then the cache-off check
	}{
		{"as expected", benchResultsWith(map[string]float64{"LRU": 0.6, "Random": 0.5}, map[string]time.Duration{"LRU": ms, "Random": ms, "off": 3 * ms}),
			[]string{BenchPass, BenchPass, BenchPass}},
		{"Random wins, cache off faster", benchResultsWith(map[string]float64{"LRU": 0.4, "Random": 0.5}, map[string]time.Duration{"LRU": 3 * ms, "off": ms}),
			[]string{BenchFail, BenchFail, BenchFail}},
		{"p50 one way, p99 the other", func() *loadgen.Results {
			r := benchResultsWith(map[string]float64{"LRU": 0.6, "Random": 0.5}, map[string]time.Duration{"LRU": ms, "off": 2 * ms})
			for i := range r.Series[3].Steps { // 80:20 LRU: faster median, slower tail
				r.Series[3].Steps[i].Reads.P99 = 20 * ms
			}
			return r
		}(), []string{BenchPass, BenchPass, BenchMixed}},
		{"policies within the noise", benchResultsWith(map[string]float64{"LRU": 0.5, "Random": 0.49}, map[string]time.Duration{"LRU": ms, "off": 2 * ms}),
			[]string{BenchTie, BenchTie, BenchPass}},
		{"no policies to compare", &loadgen.Results{Series: []loadgen.Series{{Mix: loadgen.Mix{Reads: 1, Writes: 1}, Policy: loadgen.PolicyLRU}}},
			[]string{BenchUnknown, BenchUnknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks := BenchChecks(tc.res)
			var got []string
			for _, c := range checks {
				got = append(got, c.Outcome)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("outcomes %q, want %q (%+v)", got, tc.want, checks)
			}
		})
	}
}
