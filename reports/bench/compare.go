package bench

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"imgcache/reports/interval"
	"imgcache/reports/results"
)

// Verdicts of a Delta.
const (
	Better = "better"
	Worse  = "worse"
	Same   = "~" // the intervals overlap
	NA     = "n/a"
)

// Delta is one metric of one cell in two runs.
type Delta struct {
	Metric       string
	HigherBetter bool
	A, B         interval.Estimate
	// Diff is B - A with the interval of every difference both intervals allow; Rel is it
	// relative to A's median.
	Diff interval.Estimate
	Rel  float64
	// Verdict is Better or Worse when the intervals are disjoint (or, with one run a side,
	// when the medians differ beyond the threshold), Same when they overlap, NA when a side
	// lacks the metric.
	Verdict string
	// Regression is a Worse verdict beyond the threshold.
	Regression bool
	Format     func(interval.Estimate) string `json:"-"`
}

// CellDelta is the deltas of one cell.
type CellDelta struct {
	Mix    results.Mix
	Policy string
	Deltas []Delta
}

// Comparison is run B against run A, cell by cell.
type Comparison struct {
	A, B        *results.Results
	Threshold   float64 // relative change beyond which a worse metric is a regression
	Cells       []CellDelta
	Regressions int
	// OnlyA and OnlyB are the cells one run has and the other lacks.
	OnlyA, OnlyB []results.Cell
	// NoIntervals says a side has one run a cell, so verdicts rest on the medians alone.
	NoIntervals bool
	// LoadA and LoadB are the outside load each run measured: a difference between two runs
	// may be the machine's rather than the code's.
	LoadA, LoadB RunLoad
}

// RunLoad sums up the outside load of a run's steps.
type RunLoad struct {
	OK            bool    // some step measured it
	Median        float64 // CPUs of outside work in the median step
	Heavy, Steps  int     // steps flagged busy, of all steps
	HeavyFraction float64
}

// LoadOf returns the outside load of res's steps.
func LoadOf(res *results.Results) RunLoad {
	var l RunLoad
	var out []float64
	for _, s := range res.Series {
		for _, st := range s.Steps {
			l.Steps++
			if st.Load.OK {
				out = append(out, st.Load.Outside)
			}
			if st.Load.Heavy {
				l.Heavy++
			}
		}
	}
	if len(out) > 0 {
		l.OK, l.Median = true, interval.Of(out).Center
	}
	if l.Steps > 0 {
		l.HeavyFraction = float64(l.Heavy) / float64(l.Steps)
	}
	return l
}

// Busy reports whether more than a quarter of either run's steps ran beside heavy outside work:
// then a difference between the runs may be the machine's.
func (cmp Comparison) Busy() bool {
	return cmp.LoadA.HeavyFraction > 0.25 || cmp.LoadB.HeavyFraction > 0.25
}

// Compare compares run b with run a: for each cell both have, the sustained throughput, the
// hit rate and the read latency at the highest rate every run of both served unsaturated.
func Compare(a, b *results.Results, threshold float64) Comparison {
	cmp := Comparison{A: a, B: b, Threshold: threshold, LoadA: LoadOf(a), LoadB: LoadOf(b)}
	ca, cb := Cells(a), Cells(b)
	for _, x := range ca {
		y, ok := findCell(cb, x.Mix, x.Policy)
		if !ok {
			cmp.OnlyA = append(cmp.OnlyA, results.Cell{Mix: x.Mix, Policy: x.Policy})
			continue
		}
		cd := CellDelta{Mix: x.Mix, Policy: x.Policy}
		cd.Deltas = append(cd.Deltas,
			cmp.delta("sustained throughput (/s)", true, x.Sustained, y.Sustained, RateEstimate),
			cmp.delta("hit rate", true, x.HitRate, y.HitRate, PctEstimate))
		cell := results.Cell{Mix: x.Mix, Policy: x.Policy}
		if ra, ok := CommonRate(a, cell); ok {
			if rb, ok := CommonRate(b, cell); ok {
				rate := math.Min(ra, rb)
				for _, q := range []struct {
					name string
					f    func(results.Step) float64
				}{
					{"read p50 (ms)", func(st results.Step) float64 { return millis(st.Reads.P50) }},
					{"read p99 (ms)", func(st results.Step) float64 { return millis(st.Reads.P99) }},
				} {
					ea, eb := AtRate(a, cell, rate, q.f), AtRate(b, cell, rate, q.f)
					if ea.N > 0 && eb.N > 0 {
						cd.Deltas = append(cd.Deltas, cmp.delta(fmt.Sprintf("%s at %.0f/s", q.name, rate), false, ea, eb, MsEstimate))
					}
				}
			}
		}
		for _, d := range cd.Deltas {
			if d.Regression {
				cmp.Regressions++
			}
		}
		cmp.Cells = append(cmp.Cells, cd)
	}
	for _, y := range cb {
		if _, ok := findCell(ca, y.Mix, y.Policy); !ok {
			cmp.OnlyB = append(cmp.OnlyB, results.Cell{Mix: y.Mix, Policy: y.Policy})
		}
	}
	return cmp
}

func (cmp *Comparison) delta(metric string, higherBetter bool, a, b interval.Estimate, format func(interval.Estimate) string) Delta {
	d := Delta{Metric: metric, HigherBetter: higherBetter, A: a, B: b, Diff: interval.Diff(a, b), Verdict: NA, Format: format}
	if a.N == 0 || b.N == 0 || math.IsNaN(a.Center) || math.IsNaN(b.Center) {
		return d
	}
	if a.Center != 0 {
		d.Rel = (b.Center - a.Center) / math.Abs(a.Center)
	}
	sign := 1.0
	if !higherBetter {
		sign = -1
	}
	if a.OK() && b.OK() {
		switch interval.Order(b, a) * int(sign) {
		case 1:
			d.Verdict = Better
		case -1:
			d.Verdict = Worse
		default:
			d.Verdict = Same
		}
	} else {
		cmp.NoIntervals = true
		switch {
		case sign*d.Rel > cmp.Threshold:
			d.Verdict = Better
		case sign*d.Rel < -cmp.Threshold:
			d.Verdict = Worse
		default:
			d.Verdict = Same
		}
	}
	d.Regression = d.Verdict == Worse && sign*d.Rel < -cmp.Threshold
	return d
}

// WriteCompareMarkdown writes the comparison as Markdown.
func WriteCompareMarkdown(w io.Writer, cmp Comparison) error {
	return executeText(w, "compare.md.tmpl", cmp)
}

// WriteCompareFiles writes compare.md and compare.html into dir.
func WriteCompareFiles(dir string, cmp Comparison) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("comparison: %w", err)
	}
	if err := writeFile(filepath.Join(dir, CompareMD), func(w io.Writer) error { return WriteCompareMarkdown(w, cmp) }); err != nil {
		return fmt.Errorf("comparison: %w", err)
	}
	if err := writeFile(filepath.Join(dir, CompareHTML), func(w io.Writer) error { return WriteCompareHTML(w, cmp) }); err != nil {
		return fmt.Errorf("comparison: %w", err)
	}
	return nil
}

// WriteCompareHTML writes the comparison as an HTML page.
func WriteCompareHTML(w io.Writer, cmp Comparison) error {
	return executeHTML(w, "compare.html.tmpl", cmp)
}
