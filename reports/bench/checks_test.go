package bench

import (
	"slices"
	"strings"
	"testing"
	"time"

	"imgcache/reports/results"
)

func TestChecks(t *testing.T) {
	mix := results.Mix{Reads: 80, Writes: 20}
	ms := time.Millisecond
	// Three runs a cell; each round's runs share a draw of keys, so their hit rates move
	// together from round to round.
	runs := func(hits []float64, p50 time.Duration) []synthRun {
		var out []synthRun
		for _, h := range hits {
			out = append(out, synthRun{h, p50, 1e9})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		cells map[string][]synthRun
		want  []string // the hit-rate check, the cache-off check
	}{
		{"as expected", map[string][]synthRun{
			results.PolicyLRU:    runs([]float64{0.60, 0.55, 0.65}, ms),
			results.PolicyRandom: runs([]float64{0.56, 0.52, 0.60}, ms),
			results.PolicyOff:    runs([]float64{0, 0, 0}, 3*ms),
		}, []string{Pass, Pass}},
		// Paired, LRU leads in every round, though the intervals of the two apart overlap: the
		// pairing is what calls it.
		{"paired difference within overlapping intervals", map[string][]synthRun{
			results.PolicyLRU:    runs([]float64{0.50, 0.60, 0.70}, ms),
			results.PolicyRandom: runs([]float64{0.48, 0.58, 0.69}, ms),
			results.PolicyOff:    runs([]float64{0, 0, 0}, 2*ms),
		}, []string{Pass, Pass}},
		{"Random wins, cache off faster", map[string][]synthRun{
			results.PolicyLRU:    runs([]float64{0.40, 0.41, 0.42}, 3*ms),
			results.PolicyRandom: runs([]float64{0.50, 0.52, 0.51}, ms),
			results.PolicyOff:    runs([]float64{0, 0, 0}, ms),
		}, []string{Fail, Fail}},
		{"within the noise", map[string][]synthRun{
			results.PolicyLRU:    runs([]float64{0.50, 0.52, 0.49}, ms),
			results.PolicyRandom: runs([]float64{0.51, 0.50, 0.50}, ms),
			results.PolicyOff:    runs([]float64{0, 0, 0}, ms),
		}, []string{Tie, Tie}},
		{"one run: no call", map[string][]synthRun{
			results.PolicyLRU:    runs([]float64{0.9}, ms),
			results.PolicyRandom: runs([]float64{0.1}, ms),
			results.PolicyOff:    runs([]float64{0}, 9*ms),
		}, []string{Unknown, Unknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks := Checks(synth(mix, tc.cells))
			var got []string
			for _, c := range checks[:2] {
				got = append(got, c.Outcome)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("outcomes %q, want %q\n%+v", got, tc.want, checks)
			}
			if last := checks[len(checks)-1]; last.Name != "machine quiet during the steps" || last.Outcome != Pass {
				t.Errorf("last check %+v, want a quiet machine", last)
			}
		})
	}
}

func TestQuietCheck(t *testing.T) {
	res := synth(results.Mix{Reads: 1, Writes: 1}, map[string][]synthRun{results.PolicyLRU: {{0.5, time.Millisecond, 400}}})
	res.Series[0].Steps[1].Load = results.Load{OK: true, CPUs: 2, Outside: 1.2, Heavy: true}
	c := quietCheck(res)
	if c.Outcome != Warn || !strings.Contains(c.Detail, "1 of ") || !strings.Contains(c.Detail, "1.20") {
		t.Errorf("quietCheck = %+v, want a warning naming the busy step and its load", c)
	}
	for i := range res.Series[0].Steps {
		res.Series[0].Steps[i].Load = results.Load{}
	}
	if c := quietCheck(res); c.Outcome != Unknown {
		t.Errorf("quietCheck without load figures = %+v, want n/a", c)
	}
}

// The report never states a bound that its own figures break: a measured hit rate above the
// infinite cache's is named, with the reason, instead of a flat "no cache can beat".
func TestBoundNeverContradicted(t *testing.T) {
	mix := results.Mix{Reads: 20, Writes: 80}
	ms := time.Millisecond
	res := synth(mix, map[string][]synthRun{
		results.PolicyLRU: {{0.237, ms, 1e9}, {0.236, ms, 1e9}},
	})
	m := results.MRC{Mix: mix, Sizes: []int64{1 << 20, 8 << 20, 32 << 20}, DataBytes: 32 << 20,
		Curves: []results.Curve{{Policy: "LRU", HitRates: []float64{0.1, 0.18, 0.2}}, {Policy: results.CurveBelady, HitRates: []float64{0.15, 0.19, 0.2}}}}
	for _, s := range m.Sizes {
		m.Fractions = append(m.Fractions, float64(s)/float64(m.DataBytes))
	}
	res.MRC = []results.MRC{m}
	c, ok := ceilingCheck(res)
	if !ok || c.Outcome != Warn || !strings.Contains(c.Detail, "above the ceiling") || !strings.Contains(c.Detail, "concurrently") || !strings.Contains(c.Detail, "cold misses") {
		t.Errorf("ceilingCheck = %+v, want a warning that explains the measured rate above the ceiling", c)
	}
	p := newPage(res, Graphs(res))
	text := strings.Join(p.Bounds, " ")
	if !strings.Contains(text, "20.0%") || !strings.Contains(text, "is above it") {
		t.Errorf("bounds %q: want MIN's 20.0%% and the measured rate above it named", text)
	}
	// Within the bound, no warning.
	res.Series = synth(mix, map[string][]synthRun{results.PolicyLRU: {{0.17, ms, 1e9}, {0.175, ms, 1e9}}}).Series
	if c, _ := ceilingCheck(res); c.Outcome != Pass {
		t.Errorf("ceilingCheck within the bound = %+v, want pass", c)
	}
	// Above MIN at the live size but within the ceiling: no warning, MIN being no bound.
	res.MRC[0].Ceiling = 0.3
	res.Series = synth(mix, map[string][]synthRun{results.PolicyLRU: {{0.25, ms, 1e9}, {0.26, ms, 1e9}}}).Series
	if c, _ := ceilingCheck(res); c.Outcome != Pass || !strings.Contains(c.Detail, "ceiling 30.0%") {
		t.Errorf("ceilingCheck above MIN, within the ceiling = %+v, want pass", c)
	}
}
