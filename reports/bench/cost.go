package bench

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"imgcache/reports"
	"imgcache/reports/interval"
	"imgcache/reports/results"
)

// Tiers of a step's cpu_ns, in the order tables and stacked bars show them (loadgen/cost's).
var costTiers = []string{"backend", "memcache", "storage", "database", "loadgen"}

// KindCost is the graph of CPU per request by tier, a stacked bar per policy.
const KindCost = "cost"

// Cost is what a cell's requests cost: medians over its runs of the CPU time per request by tier
// (µs), the storage reads per read and the database queries per read (every query the backends
// issued, writes' too, over the reads), each run over its unsaturated steps (all its steps when
// none is), the load a deployment would run at.
type Cost struct {
	Mix    results.Mix
	Policy string
	Tiers  []string                     // tiers measured in every run, in costTiers order
	CPU    map[string]interval.Estimate // µs per request, by tier
	Total  interval.Estimate            // µs per request, all tiers
	// StoragePerRead and DBPerRead have N = 0 when the backends' counters were not read.
	StoragePerRead, DBPerRead interval.Estimate
}

// runCost sums a series' unsaturated steps (or all its steps, when none is) and returns the
// µs per request by tier, storage reads and database queries per read; ok* say what was measured.
func runCost(s results.Series) (cpu map[string]float64, perRead [2]float64, okCPU, okCounts bool) {
	for _, all := range []bool{false, true} {
		var reqs, reads, gets, queries int64
		ns := map[string]int64{}
		counted, cpuSteps := true, 0
		for _, st := range s.Steps {
			if !all && st.Saturated {
				continue
			}
			reqs += int64(st.All.Requests)
			reads += int64(st.Reads.Requests)
			if len(st.CPUNs) > 0 {
				cpuSteps++
				for t, v := range st.CPUNs {
					ns[t] += v
				}
			}
			if st.StorageGets == nil || st.DBQueries == nil {
				counted = false
			} else {
				gets += *st.StorageGets
				queries += *st.DBQueries
			}
		}
		if reqs == 0 {
			continue
		}
		cpu = map[string]float64{}
		for t, v := range ns {
			cpu[t] = float64(v) / 1e3 / float64(reqs)
		}
		okCounts = counted && reads > 0
		if okCounts {
			perRead = [2]float64{float64(gets) / float64(reads), float64(queries) / float64(reads)}
		}
		return cpu, perRead, cpuSteps > 0, okCounts
	}
	return nil, perRead, false, false
}

// Costs returns the cost of every cell of res that measured one, in the order of Cells.
func Costs(res *results.Results) []Cost {
	var out []Cost
	for _, c := range res.Cells() {
		cost := Cost{Mix: c.Mix, Policy: c.Policy, CPU: map[string]interval.Estimate{}}
		byTier := map[string][]float64{}
		var total, storage, db []float64
		runs := 0
		for _, s := range res.Runs(c.Mix, c.Policy) {
			cpu, perRead, okCPU, okCounts := runCost(s)
			if okCPU {
				runs++
				sum := 0.0
				for t, v := range cpu {
					byTier[t] = append(byTier[t], v)
					sum += v
				}
				total = append(total, sum)
			}
			if okCounts {
				storage = append(storage, perRead[0])
				db = append(db, perRead[1])
			}
		}
		if runs == 0 && len(storage) == 0 {
			continue
		}
		for _, t := range costTiers {
			if len(byTier[t]) == runs && runs > 0 {
				cost.Tiers = append(cost.Tiers, t)
				cost.CPU[t] = interval.Of(byTier[t])
			}
		}
		cost.Total = interval.Of(total)
		cost.StoragePerRead, cost.DBPerRead = interval.Of(storage), interval.Of(db)
		out = append(out, cost)
	}
	return out
}

// UsEstimate formats an estimate in microseconds.
func UsEstimate(e interval.Estimate) string {
	return withInterval(e, func(v float64) string { return fmt.Sprintf("%.0f", v) }, "")
}

// RatioEstimate formats an estimate of a count per read with two decimals.
func RatioEstimate(e interval.Estimate) string {
	return withInterval(e, func(v float64) string { return fmt.Sprintf("%.2f", v) }, "")
}

// CostTier returns the cell's figure for tier, formatted, or "–".
func (c Cost) CostTier(tier string) string {
	e, ok := c.CPU[tier]
	if !ok {
		return "–"
	}
	return UsEstimate(e)
}

// costGraph is the stacked bars of CPU per request of mix's cells, a bar per policy; false when
// no cell measured CPU.
func costGraph(res *results.Results, mix results.Mix) (Graph, bool) {
	g := Graph{
		Kind:   KindCost,
		Mix:    mix,
		File:   slug(KindCost, mix),
		Title:  fmt.Sprintf("CPU time per request by tier at reads:writes %s\n%s", mix, subtitle(res)),
		YLabel: "CPU per request (µs, median of runs)",
	}
	for _, c := range Costs(res) {
		if c.Mix != mix || len(c.Tiers) == 0 {
			continue
		}
		b := Line{Name: PolicyLabel(c.Policy), Policy: c.Policy, Kind: KindCost}
		for i, t := range costTiers {
			if e, ok := c.CPU[t]; ok {
				b.Points = append(b.Points, GraphPoint{X: float64(i), Y: e.Center})
			}
		}
		g.Lines = append(g.Lines, b)
	}
	return g, len(g.Lines) > 0
}

// drawCost renders a KindCost graph: one bar per line (policy), stacked by tier.
func drawCost(w io.Writer, g Graph) error {
	p := reports.NewPlot()
	p.Title.Text = g.Title
	p.Y.Label.Text = g.YLabel
	p.Legend.Top = true
	names := make([]string, len(g.Lines))
	for i, l := range g.Lines {
		names[i] = l.Name
	}
	var below *plotter.BarChart
	pal := palette()
	colors := map[string]int{"backend": 0, "memcache": 2, "storage": 4, "database": 3, "loadgen": 5}
	for ti, tier := range costTiers {
		vals := make(plotter.Values, len(g.Lines))
		any := false
		for i, l := range g.Lines {
			for _, pt := range l.Points {
				if int(pt.X) == ti {
					vals[i], any = pt.Y, true
				}
			}
		}
		if !any {
			continue
		}
		bc, err := plotter.NewBarChart(vals, vg.Points(40))
		if err != nil {
			return fmt.Errorf("%s: %w", g.File, err)
		}
		bc.Color = pal[colors[tier]]
		bc.LineStyle.Width = 0
		if below != nil {
			bc.StackOn(below)
		}
		below = bc
		p.Add(bc)
		p.Legend.Add(tier, bc)
	}
	p.NominalX(names...)
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max*1.25, 1) // room for the legend above the tallest bar
	wt, err := p.WriterTo(GraphWidth, GraphHeight, "png")
	if err != nil {
		return fmt.Errorf("%s: %w", g.File, err)
	}
	_, err = wt.WriteTo(w)
	return err
}
