package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imgcache/reports/results"
)

func TestCompare(t *testing.T) {
	mix := results.Mix{Reads: 80, Writes: 20}
	ms := time.Millisecond
	base := synth(mix, map[string][]synthRun{
		results.PolicyLRU:    {{0.60, ms, 800}, {0.61, ms, 800}, {0.60, ms, 800}},
		results.PolicyRandom: {{0.50, ms, 800}, {0.51, ms, 800}, {0.52, ms, 800}},
	})
	for _, tc := range []struct {
		name        string
		b           *results.Results
		threshold   float64
		regressions int
		verdicts    map[string]string // cell policy + metric prefix -> verdict
	}{
		{"same run", base, 0.1, 0, map[string]string{"LRU sustained": Same, "Random hit rate": Same}},
		// LRU saturates at 400 instead of 800: 300/s sustained instead of 600, 50% down.
		{"throughput halved", synth(mix, map[string][]synthRun{
			results.PolicyLRU:    {{0.60, ms, 400}, {0.61, ms, 400}, {0.60, ms, 400}},
			results.PolicyRandom: {{0.50, ms, 1600}, {0.51, ms, 1600}, {0.52, ms, 1600}},
		}), 0.1, 1, map[string]string{"LRU sustained": Worse, "Random sustained": Better}},
		{"worse but within the threshold", synth(mix, map[string][]synthRun{
			results.PolicyLRU:    {{0.60, ms, 400}, {0.61, ms, 400}, {0.60, ms, 400}},
			results.PolicyRandom: {{0.50, ms, 800}, {0.51, ms, 800}, {0.52, ms, 800}},
		}), 0.6, 0, map[string]string{"LRU sustained": Worse}},
		{"slower reads", synth(mix, map[string][]synthRun{
			results.PolicyLRU:    {{0.60, 3 * ms, 800}, {0.61, 3 * ms, 800}, {0.60, 3 * ms, 800}},
			results.PolicyRandom: {{0.50, ms, 800}, {0.51, ms, 800}, {0.52, ms, 800}},
		}), 0.1, 2, map[string]string{"LRU read p50": Worse, "LRU read p99": Worse, "Random read p50": Same}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmp := Compare(base, tc.b, tc.threshold)
			if cmp.Regressions != tc.regressions {
				t.Errorf("%d regressions, want %d", cmp.Regressions, tc.regressions)
			}
			for key, want := range tc.verdicts {
				found := false
				for _, c := range cmp.Cells {
					for _, d := range c.Deltas {
						if strings.HasPrefix(c.Policy+" "+d.Metric, key) {
							found = true
							if d.Verdict != want {
								t.Errorf("%s %s: verdict %q, want %q (A %+v, B %+v)", c.Policy, d.Metric, d.Verdict, want, d.A, d.B)
							}
						}
					}
				}
				if !found {
					t.Errorf("no delta %q", key)
				}
			}
		})
	}
}

// With one run a side there are no intervals: a change beyond the threshold still counts, and
// the comparison says on what it rests.
func TestCompareOneRun(t *testing.T) {
	mix := results.Mix{Reads: 50, Writes: 50}
	a := synth(mix, map[string][]synthRun{results.PolicyLRU: {{0.4, time.Millisecond, 800}}})
	b := synth(mix, map[string][]synthRun{results.PolicyLRU: {{0.4, time.Millisecond, 400}}, results.PolicyOff: {{0, time.Millisecond, 800}}})
	cmp := Compare(a, b, 0.1)
	if cmp.Regressions != 1 || !cmp.NoIntervals || len(cmp.OnlyB) != 1 {
		t.Errorf("%d regressions, no intervals %v, only in B %v; want 1, true, cache off", cmp.Regressions, cmp.NoIntervals, cmp.OnlyB)
	}
	var md bytes.Buffer
	if err := WriteCompareMarkdown(&md, cmp); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"**REGRESSION**", "where a side has one run", "Only in B: 50:50 cache off", "**1 regression(s)**"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("Markdown lacks %q:\n%s", s, md.String())
		}
	}
	dir := t.TempDir()
	if err := WriteCompareFiles(dir, cmp); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, CompareHTML))
	if err != nil || !bytes.Contains(html, []byte(`class="l regression"`)) || !bytes.Contains(html, []byte("viewport")) {
		t.Errorf("compare.html (%v) lacks the regression or the viewport tag", err)
	}
	checkLinks(t, dir, html)
}

// A comparison says how busy the machine was during each run, and warns when a run was busy.
func TestCompareLoad(t *testing.T) {
	mix := results.Mix{Reads: 50, Writes: 50}
	a := synth(mix, map[string][]synthRun{results.PolicyLRU: {{0.4, time.Millisecond, 800}, {0.4, time.Millisecond, 800}}})
	b := synth(mix, map[string][]synthRun{results.PolicyLRU: {{0.4, time.Millisecond, 800}, {0.4, time.Millisecond, 800}}})
	for i := range b.Series {
		for j := range b.Series[i].Steps {
			b.Series[i].Steps[j].Load = results.Load{OK: true, CPUs: 2, Outside: 1.2, Heavy: true}
		}
	}
	cmp := Compare(a, b, 0.1)
	if !cmp.LoadA.OK || cmp.LoadA.Heavy != 0 || cmp.LoadB.Median != 1.2 || cmp.LoadB.HeavyFraction != 1 || !cmp.Busy() {
		t.Errorf("loads A %+v, B %+v, busy %v; want A quiet, B at 1.2 CPUs with every step flagged", cmp.LoadA, cmp.LoadB, cmp.Busy())
	}
	var md bytes.Buffer
	if err := WriteCompareMarkdown(&md, cmp); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"A 0.10 CPUs in the median step, 0 of", "B 1.20 CPUs", "may be the machine's"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("Markdown lacks %q:\n%s", s, md.String())
		}
	}
	if Compare(a, a, 0.1).Busy() {
		t.Error("two quiet runs called busy")
	}
}
