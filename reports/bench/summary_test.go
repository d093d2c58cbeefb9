package bench

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"imgcache/reports/interval"
	"imgcache/reports/results"
)

func TestCells(t *testing.T) {
	mix := results.Mix{Reads: 80, Writes: 20}
	ms := time.Millisecond
	res := synth(mix, map[string][]synthRun{
		results.PolicyLRU:    {{0.6, ms, 800}, {0.62, ms, 1600}, {0.61, ms, 800}},
		results.PolicyRandom: {{0.5, ms, 50}},
		results.PolicyOff:    {{0, 2 * ms, 1e9}},
	})
	cells := Cells(res)
	if len(cells) != 3 {
		t.Fatalf("%d cells, want 3", len(cells))
	}
	for _, tc := range []struct {
		name       string
		cell       Cell
		runs       int
		sustained  float64
		search     string
		hit        float64
		notReached int
		noneServed int
	}{
		// Runs saturating at 800 searched 600 and served it: sustained 600 each, the run
		// saturating at 1600 served 1200.
		{"LRU", cells[0], 3, 600, "600–800, 1200–1600, 600–800", 0.61, 0, 0},
		{"Random serves no rate", cells[1], 1, math.NaN(), "< 75 (no rate served)", 0.5, 0, 1},
		{"cache off never saturates", cells[2], 1, 1600, "≥ 1600 (not saturated)", 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cell
			if c.Runs != tc.runs || c.NotReached != tc.notReached || c.NoneServed != tc.noneServed {
				t.Errorf("runs %d, not reached %d, none served %d; want %d, %d, %d", c.Runs, c.NotReached, c.NoneServed, tc.runs, tc.notReached, tc.noneServed)
			}
			if got := c.Sustained.Center; !(got == tc.sustained || math.IsNaN(got) && math.IsNaN(tc.sustained)) {
				t.Errorf("sustained %g, want %g", got, tc.sustained)
			}
			if got := c.SearchText(); got != tc.search {
				t.Errorf("SearchText() = %q, want %q", got, tc.search)
			}
			if math.Abs(c.HitRate.Center-tc.hit) > 1e-9 {
				t.Errorf("hit rate %g, want %g", c.HitRate.Center, tc.hit)
			}
			if c.Sustained.Lo < 0 || c.HitRate.Lo < 0 || c.HitRate.Hi > 1 {
				t.Errorf("intervals past what the quantities can be: sustained %+v, hit rate %+v", c.Sustained, c.HitRate)
			}
		})
	}
	if !cells[0].Sustained.OK() || cells[1].Sustained.OK() {
		t.Errorf("intervals: LRU's %+v (3 runs, want one), Random's %+v (no run served, want none)", cells[0].Sustained, cells[1].Sustained)
	}
}

func TestSweepPointsAndCommonRate(t *testing.T) {
	mix := results.Mix{Reads: 50, Writes: 50}
	ms := time.Millisecond
	res := synth(mix, map[string][]synthRun{
		results.PolicyLRU: {{0.4, ms, 800}, {0.4, 2 * ms, 400}},
		results.PolicyOff: {{0, 3 * ms, 1e9}},
	})
	lru := results.Cell{Mix: mix, Policy: results.PolicyLRU}
	pts := SweepPoints(res, lru, func(st results.Step) (float64, bool) { return millis(st.Reads.P50), true })
	var got []string
	for _, p := range pts {
		got = append(got, fmt.Sprintf("%g:%d/%d", p.Offered, p.Runs, p.Saturated))
	}
	// Both runs ran 100, 200 and 400 (the second saturating there); only the first ran 800.
	if want := "100:2/0 200:2/0 400:2/1 800:1/1"; strings.Join(got, " ") != want {
		t.Errorf("points %q, want %q", strings.Join(got, " "), want)
	}
	if pts[0].Value.Center != 1.5 || !pts[0].Value.OK() {
		t.Errorf("100/s: %+v, want the median 1.5 ms of two runs with an interval", pts[0].Value)
	}
	rate, ok := CommonRate(res, lru, results.Cell{Mix: mix, Policy: results.PolicyOff})
	if !ok || rate != 200 {
		t.Errorf("CommonRate = %g, %v; want 200 (the second LRU run saturated at 400)", rate, ok)
	}
}

// An interval of a few runs never reaches past what the runs measured, so never past what the
// quantity can be (a hit rate below 0, a throughput below 0), and needs no clipping: it is the
// runs' min–max, of 75% coverage for 3 runs.
func TestCellClamp(t *testing.T) {
	mix := results.Mix{Reads: 80, Writes: 20}
	res := synth(mix, map[string][]synthRun{
		results.PolicyLRU: {{0.01, time.Millisecond, 200}, {0.02, time.Millisecond, 200}, {0.6, time.Millisecond, 1600}},
	})
	c := Cells(res)[0]
	if c.HitRate.Lo != 0.01 || c.Sustained.Lo <= 0 || !c.HitRate.OK() || c.HitRate.Clipped || c.Sustained.Clipped || c.HitRate.Coverage != 0.75 {
		t.Errorf("hit rate %+v, sustained %+v: want the runs' min–max, 75%%, unclipped", c.HitRate, c.Sustained)
	}
	if s := PctEstimate(interval.Estimate{N: 3, Center: 0.1, Lo: -0.1, Hi: 0.3, Method: interval.MethodDiff}.Clamp(0, 1)); !strings.Contains(s, "clipped") {
		t.Errorf("a clipped interval formats as %q, without a mark", s)
	}
}

func TestConfirmText(t *testing.T) {
	mix := results.Mix{Reads: 80, Writes: 20}
	res := synth(mix, map[string][]synthRun{results.PolicyLRU: {{0.5, time.Millisecond, 800}}})
	if c := Cells(res)[0]; c.ConfirmText() != "" {
		t.Errorf("no confirmation: %q", c.ConfirmText())
	}
	s := &res.Series[0]
	s.Steps = append(s.Steps, results.Step{Phase: results.PhaseConfirm, Offered: 400, Duration: 15 * time.Second})
	if got := Cells(res)[0].ConfirmText(); got != "confirmed: 400/s held for 15s" {
		t.Errorf("held: %q", got)
	}
	s.Steps[len(s.Steps)-1].Saturated, s.Steps[len(s.Steps)-1].Reasons = true, []string{"backlog grew 2s"}
	c := Cells(res)[0]
	if got := c.ConfirmText(); !strings.Contains(got, "FAILED at 400/s (backlog grew 2s)") || c.Searches[0].Lo != 200 {
		t.Errorf("failed: %q, sustained at %g; want the failure named and 200/s sustained", got, c.Searches[0].Lo)
	}
}
