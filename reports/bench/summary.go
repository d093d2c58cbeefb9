package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"imgcache/reports/interval"
	"imgcache/reports/results"
)

// Cell summarises a cell's runs: medians over the repeats with their intervals (interval.Of).
type Cell struct {
	Mix        results.Mix
	Policy     string
	CapacityMB int
	Runs       int
	// Sustained is the sustained throughput: each run's achieved throughput at the highest rate
	// it served unsaturated. Searches are where each run saturated; NotReached runs did not, up
	// to the maximum rate (their sustained throughput is a lower bound), and NoneServed runs
	// saturated at their first step.
	Sustained  interval.Estimate
	Searches   []results.Search
	NotReached int
	NoneServed int
	// Resolved counts the runs whose search interval is within the run's resolution.
	Resolved int
	// P99 and ReadP99 are the latency at the sustained step, in milliseconds.
	P99, ReadP99 interval.Estimate
	// HitRate is each run's hit rate over its unsaturated steps (no estimate without lookups).
	HitRate interval.Estimate
	// Steps and HeavySteps count the steps, and those beside heavy outside work.
	Steps, HeavySteps int
	// MaxOutside is the most outside load of a step, in CPUs; LoadOK says it was measured.
	MaxOutside float64
	LoadOK     bool
	Reasons    []string // why the first run's first saturated step saturated
	Errors     []string // why runs stopped early

	// Confirms are the cell's confirmation steps (three times as long, at the cell's sustained
	// rate); Retried counts the steps run again because the first try was beside heavy load.
	Confirms []results.Step
	Retried  int
}

// Cells summarises every cell of res, mixes in run order and the policies of each in run order.
func Cells(res *results.Results) []Cell {
	var out []Cell
	for _, c := range res.Cells() {
		out = append(out, summarise(res, c))
	}
	return out
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func summarise(res *results.Results, c results.Cell) Cell {
	runs := res.Runs(c.Mix, c.Policy)
	cell := Cell{Mix: c.Mix, Policy: c.Policy, Runs: len(runs)}
	var sustained, p99, rp99, hits []float64
	for i, s := range runs {
		cell.CapacityMB = s.CapacityMB
		if s.Error != "" {
			cell.Errors = append(cell.Errors, s.Error)
		}
		f := s.Search()
		cell.Searches = append(cell.Searches, f)
		switch {
		case !f.OK:
			cell.NoneServed++
		default:
			sustained = append(sustained, f.Sustained.Throughput)
			p99 = append(p99, millis(f.Sustained.All.P99))
			if f.Sustained.Reads.Requests > 0 {
				rp99 = append(rp99, millis(f.Sustained.Reads.P99))
			}
		}
		if f.Hi == 0 {
			cell.NotReached++
		} else if f.OK && (f.Hi-f.Lo)/f.Lo <= res.Params.Resolution*(1+1e-9) {
			cell.Resolved++
		}
		if f.Confirmed {
			cell.Confirms = append(cell.Confirms, f.Confirm)
		}
		if h, _, ok := s.HitRate(); ok {
			hits = append(hits, h)
		}
		for _, st := range s.Steps {
			cell.Steps++
			if st.Load.OK {
				cell.LoadOK = true
				cell.MaxOutside = math.Max(cell.MaxOutside, st.Load.Outside)
			}
			if st.Load.Heavy {
				cell.HeavySteps++
			}
			if st.Retried {
				cell.Retried++
			}
			if i == 0 && st.Saturated && cell.Reasons == nil {
				cell.Reasons = st.Reasons
			}
		}
	}
	inf := math.Inf(1)
	cell.Sustained = interval.Of(sustained).Clamp(0, inf)
	cell.P99, cell.ReadP99 = interval.Of(p99).Clamp(0, inf), interval.Of(rp99).Clamp(0, inf)
	cell.HitRate = interval.Of(hits).Clamp(0, 1)
	return cell
}

// SearchText says where each run of the cell saturated: "1131–1190" (offered rates of the last
// step served and the first saturated), "≥ 400 (not saturated)" or "< 100 (no rate served)".
func (c Cell) SearchText() string {
	var parts []string
	for _, f := range c.Searches {
		switch {
		case !f.OK:
			parts = append(parts, fmt.Sprintf("< %.0f (no rate served)", f.Hi))
		case f.Hi == 0:
			parts = append(parts, fmt.Sprintf("≥ %.0f (not saturated)", f.Lo))
		default:
			parts = append(parts, fmt.Sprintf("%.0f–%.0f", f.Lo, f.Hi))
		}
	}
	return strings.Join(parts, ", ")
}

// ConfirmText says how the cell's confirmation went: "held 1131/s for 15s" or "FAILED at
// 1131/s (backlog grew ...): the sustained rate is the next below"; "" without one.
func (c Cell) ConfirmText() string {
	var parts []string
	for _, st := range c.Confirms {
		if st.Saturated {
			parts = append(parts, fmt.Sprintf("confirmation FAILED at %.0f/s (%s): the sustained rate is the next rate served", st.Offered, strings.Join(st.Reasons, "; ")))
		} else {
			parts = append(parts, fmt.Sprintf("confirmed: %.0f/s held for %v", st.Offered, st.Duration.Round(time.Second)))
		}
	}
	return strings.Join(parts, "; ")
}

// PerRun returns value of each run of the cell by its repeat index, for the runs it reports.
func PerRun(res *results.Results, c results.Cell, value func(results.Series) (float64, bool)) map[int]float64 {
	out := map[int]float64{}
	for _, s := range res.Runs(c.Mix, c.Policy) {
		if v, ok := value(s); ok {
			out[s.Repeat] = v
		}
	}
	return out
}

// PairedDiff estimates b - a over the runs both cells have in common: the runs of one round
// share their keys and sit next to each other in time, so the difference of a pair is free of
// what they share.
func PairedDiff(a, b map[int]float64) interval.Estimate {
	var reps []int
	for r := range a {
		if _, ok := b[r]; ok {
			reps = append(reps, r)
		}
	}
	slices.Sort(reps)
	xa, xb := make([]float64, len(reps)), make([]float64, len(reps))
	for i, r := range reps {
		xa[i], xb[i] = a[r], b[r]
	}
	return interval.Paired(xa, xb)
}

// StepAt returns a series' sweep step at rate.
func StepAt(s results.Series, rate float64) (results.Step, bool) {
	for _, st := range s.Steps {
		if st.InSweep() && st.Offered == rate {
			return st, true
		}
	}
	return results.Step{}, false
}

// Point is the value of one offered rate of a cell's sweep over its runs.
type Point struct {
	Offered float64
	Value   interval.Estimate
	// Saturated counts the runs whose step at this rate saturated, of Runs that ran it.
	Saturated, Runs int
}

// SweepPoints returns, for each rate of the cell's sweeps, the estimate of what value reads of
// each run's step at that rate. Steps for which value reports false are left out.
func SweepPoints(res *results.Results, c results.Cell, value func(results.Step) (float64, bool)) []Point {
	byRate := map[float64]*Point{}
	vals := map[float64][]float64{}
	for _, s := range res.Runs(c.Mix, c.Policy) {
		for _, st := range s.Steps {
			if !st.InSweep() {
				continue
			}
			v, ok := value(st)
			if !ok {
				continue
			}
			p := byRate[st.Offered]
			if p == nil {
				p = &Point{Offered: st.Offered}
				byRate[st.Offered] = p
			}
			p.Runs++
			if st.Saturated {
				p.Saturated++
			}
			vals[st.Offered] = append(vals[st.Offered], v)
		}
	}
	var out []Point
	for rate, p := range byRate {
		p.Value = interval.Of(vals[rate]).Clamp(0, math.Inf(1))
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Point) int { return cmpFloat(a.Offered, b.Offered) })
	return out
}

// CommonRate returns the highest sweep rate that every run of every cell given served
// unsaturated with reads, the load at which to compare latencies; false if there is none.
func CommonRate(res *results.Results, cells ...results.Cell) (float64, bool) {
	var common map[float64]bool
	for _, c := range cells {
		runs := res.Runs(c.Mix, c.Policy)
		if len(runs) == 0 {
			return 0, false
		}
		for _, s := range runs {
			ok := map[float64]bool{}
			for _, st := range s.Steps {
				if st.InSweep() && !st.Saturated && st.Reads.Requests > 0 && (common == nil || common[st.Offered]) {
					ok[st.Offered] = true
				}
			}
			common = ok
		}
	}
	best, found := 0.0, false
	for r := range common {
		if r > best {
			best, found = r, true
		}
	}
	return best, found
}

// AtRate returns, for each run of the cell, value of its sweep step at rate.
func AtRate(res *results.Results, c results.Cell, rate float64, value func(results.Step) float64) interval.Estimate {
	var xs []float64
	for _, s := range res.Runs(c.Mix, c.Policy) {
		for _, st := range s.Steps {
			if st.InSweep() && st.Offered == rate {
				xs = append(xs, value(st))
				break
			}
		}
	}
	return interval.Of(xs).Clamp(0, math.Inf(1))
}

// Live is a cell's measured hit rate placed on its mix's miss-ratio curves: where the curve of
// its policy and Belady's stand at the live capacity.
type Live struct {
	Policy   string
	Fraction float64 // the capacity as a share of the MRC's data
	HitRate  interval.Estimate
	// Simulated and Belady are the curves' hit rates at that size; OK says the curves have it.
	Simulated, Belady float64
	OK                bool
}

// LivePoints returns the measured hit rate of each cell of mix that has one, on the curves.
func LivePoints(res *results.Results, mix results.Mix) []Live {
	m, ok := res.MRCOf(mix)
	var out []Live
	for _, c := range Cells(res) {
		if c.Mix != mix || c.HitRate.N == 0 || c.CapacityMB == 0 {
			continue
		}
		l := Live{Policy: c.Policy, HitRate: c.HitRate}
		if ok && m.DataBytes > 0 {
			size := res.Params.PoolBytes(c.CapacityMB)
			l.Fraction = float64(size) / float64(m.DataBytes)
			if i := slices.Index(m.Sizes, size); i >= 0 {
				pc, okp := m.Curve(c.Policy)
				b, okb := m.Curve(results.CurveBelady)
				if okp && okb {
					l.Simulated, l.Belady, l.OK = pc.HitRates[i], b.HitRates[i], true
				}
			}
		}
		out = append(out, l)
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
