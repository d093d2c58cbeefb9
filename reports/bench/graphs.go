// Package bench draws the benchmark's graphs, summarises and compares runs with their confidence
// intervals, and writes the report around them, all from reports/results alone, without vegeta.
package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot/vg"

	"imgcache/reports/interval"
	"imgcache/reports/results"
)

// Size of a bench graph: 600×375 points, which gonum/plot saves as an 800×500 PNG (96 DPI).
const (
	GraphWidth  = 600 * vg.Inch / 72
	GraphHeight = 375 * vg.Inch / 72
)

// Kinds of graph and line.
const (
	KindLatency    = "latency"
	KindThroughput = "throughput"
	KindMRC        = "mrc"

	LineP50       = "p50"
	LineP99       = "p99"
	LineRate      = "achieved"
	LineSearch    = "search" // the search's steps: points, not a line
	LineIdeal     = "ideal"
	LineCurve     = "curve"  // a simulated miss-ratio curve
	LineBelady    = "belady" // Belady's MIN
	LineMeasured  = "measured"
	legendFontPts = 9
)

// GraphPoint is a point of a line: x is the offered rate (requests/s) or a cache size (% of the
// data); y a latency (ms), a throughput (/s) or a hit rate (%). Lo and Hi bound its interval
// (interval.Of's, whose coverage the subtitle states) when HasErr; Saturated marks a step that saturated in at least one run.
type GraphPoint struct {
	X, Y      float64
	Lo, Hi    float64
	HasErr    bool
	Saturated bool
}

// Line is one line (or set of points) of a graph.
type Line struct {
	Name   string // legend text, e.g. "LRU p99"
	Policy string // a series' policy, results.CurveBelady, or "" for the ideal line
	Kind   string
	Points []GraphPoint
}

// Graph is the data of one graph, independent of how it is drawn.
type Graph struct {
	Kind   string
	Mix    results.Mix
	File   string // PNG file name, e.g. "latency-80-20.png"
	Title  string
	XLabel string
	YLabel string
	XTicks []float64 // labelled x values; nil means log ticks
	Lines  []Line
}

// Graphs returns, for each mix of res in run order, its latency and throughput graphs, and its
// miss-ratio curves when the run has them.
func Graphs(res *results.Results) []Graph {
	var out []Graph
	for _, mix := range res.Mixes() {
		out = append(out, latencyGraph(res, mix), throughputGraph(res, mix))
		if m, ok := res.MRCOf(mix); ok && len(m.Curves) > 0 {
			out = append(out, mrcGraph(res, m))
		}
		if g, ok := costGraph(res, mix); ok {
			out = append(out, g)
		}
	}
	return out
}

// PolicyLabel names a policy for people: "LRU", "Random", "cache off".
func PolicyLabel(policy string) string {
	if policy == results.PolicyOff {
		return "cache off"
	}
	return policy
}

func subtitle(res *results.Results) string {
	d := res.Dataset
	runs := "1 run"
	if n := res.Params.Repeats(); n > 1 {
		_, c := interval.For(n)
		runs = fmt.Sprintf("median of %d runs, bars: %s", n, intervalShort(n, c))
	}
	return fmt.Sprintf("%d images (%s), %s keys; cache %d MB (%.0f%%); %s",
		d.Images, benchBytes(d.Bytes), res.Params.Popularity, res.Params.CapacityMB, 100*cacheShare(res), runs)
}

// cacheShare is the capacity as a share of what the whole data set takes in the cache.
func cacheShare(res *results.Results) float64 {
	if res.Dataset.StoredBytes == 0 {
		return 0
	}
	return float64(res.Params.CapacityMB) * (1 << 20) / float64(res.Dataset.StoredBytes)
}

func slug(kind string, mix results.Mix) string { return kind + "-" + mix.Slug() + ".png" }

func sweepRates(res *results.Results, mix results.Mix) []float64 {
	seen := map[float64]bool{}
	var rates []float64
	for _, s := range res.Series {
		for _, st := range s.Steps {
			if s.Mix == mix && st.InSweep() && !seen[st.Offered] {
				seen[st.Offered] = true
				rates = append(rates, st.Offered)
			}
		}
	}
	slices.Sort(rates)
	return rates
}

func cellsOf(res *results.Results, mix results.Mix) []results.Cell {
	var out []results.Cell
	for _, c := range res.Cells() {
		if c.Mix == mix {
			out = append(out, c)
		}
	}
	return out
}

func toGraphPoints(pts []Point) []GraphPoint {
	out := make([]GraphPoint, 0, len(pts))
	for _, p := range pts {
		gp := GraphPoint{X: p.Offered, Y: p.Value.Center, Saturated: p.Saturated > 0}
		if p.Value.OK() {
			gp.Lo, gp.Hi, gp.HasErr = p.Value.Lo, p.Value.Hi, true
		}
		out = append(out, gp)
	}
	return out
}

func latencyGraph(res *results.Results, mix results.Mix) Graph {
	g := Graph{
		Kind:   KindLatency,
		Mix:    mix,
		File:   slug(KindLatency, mix),
		Title:  fmt.Sprintf("Latency at reads:writes %s (p50 dashed, p99 solid)\n%s", mix, subtitle(res)),
		XLabel: "offered rate (requests/s, log scale)",
		YLabel: "latency of all requests (ms, log scale)",
		XTicks: sweepRates(res, mix),
	}
	for _, c := range cellsOf(res, mix) {
		for _, q := range []string{LineP50, LineP99} {
			pts := SweepPoints(res, c, func(st results.Step) (float64, bool) {
				d := st.All.P50
				if q == LineP99 {
					d = st.All.P99
				}
				return millis(d), st.All.Requests > 0 && d > 0
			})
			g.Lines = append(g.Lines, Line{Name: PolicyLabel(c.Policy) + " " + q, Policy: c.Policy, Kind: q, Points: toGraphPoints(pts)})
		}
	}
	return g
}

func throughputGraph(res *results.Results, mix results.Mix) Graph {
	g := Graph{
		Kind:   KindThroughput,
		Mix:    mix,
		File:   slug(KindThroughput, mix),
		Title:  fmt.Sprintf("Throughput at reads:writes %s (hollow: search steps)\n%s", mix, subtitle(res)),
		XLabel: "offered rate (requests/s, log scale)",
		YLabel: "achieved (successful responses/s, log scale)",
		XTicks: sweepRates(res, mix),
	}
	for _, c := range cellsOf(res, mix) {
		pts := SweepPoints(res, c, func(st results.Step) (float64, bool) { return st.Throughput, st.Throughput > 0 })
		g.Lines = append(g.Lines, Line{Name: PolicyLabel(c.Policy), Policy: c.Policy, Kind: LineRate, Points: toGraphPoints(pts)})
		search := Line{Name: PolicyLabel(c.Policy) + " search", Policy: c.Policy, Kind: LineSearch}
		for _, s := range res.Runs(c.Mix, c.Policy) {
			for _, st := range s.Steps {
				if !st.InSweep() && st.Throughput > 0 {
					search.Points = append(search.Points, GraphPoint{X: st.Offered, Y: st.Throughput, Saturated: st.Saturated})
				}
			}
		}
		if len(search.Points) > 0 {
			g.Lines = append(g.Lines, search)
		}
	}
	if n := len(g.XTicks); n > 0 {
		lo, hi := g.XTicks[0], g.XTicks[n-1]
		g.Lines = append(g.Lines, Line{Name: "ideal (y = x)", Kind: LineIdeal, Points: []GraphPoint{{X: lo, Y: lo}, {X: hi, Y: hi}}})
	}
	return g
}

func mrcGraph(res *results.Results, m results.MRC) Graph {
	what := fmt.Sprintf("%d requests over %d keys", m.Requests, m.Keys)
	if m.SampleRate < 1 {
		what += fmt.Sprintf(", SHARDS sample of %.1f%% of the keys", 100*m.SampleRate)
	}
	g := Graph{
		Kind: KindMRC,
		Mix:  m.Mix,
		File: slug(KindMRC, m.Mix),
		Title: fmt.Sprintf("Hit rate against cache size at reads:writes %s\nlines: the %s sent, replayed in order; points: measured",
			m.Mix, what),
		XLabel: "cache size (% of the data set as cached, log scale)",
		YLabel: "hit rate (% of reads)",
	}
	for _, c := range m.Curves {
		l := Line{Name: c.Policy + " (simulated)", Policy: c.Policy, Kind: LineCurve}
		if c.Policy == results.CurveBelady {
			l.Name, l.Kind = "Belady's MIN (offline reference)", LineBelady
		}
		for i, f := range m.Fractions {
			l.Points = append(l.Points, GraphPoint{X: 100 * f, Y: 100 * c.HitRates[i]})
		}
		g.Lines = append(g.Lines, l)
	}
	if m.Ceiling > 0 && len(m.Fractions) > 0 {
		g.Lines = append(g.Lines, Line{Name: "infinite cache (bound)", Kind: LineIdeal, Points: []GraphPoint{
			{X: 100 * m.Fractions[0], Y: 100 * m.Ceiling}, {X: 100 * m.Fractions[len(m.Fractions)-1], Y: 100 * m.Ceiling}}})
	}
	for _, lp := range LivePoints(res, m.Mix) {
		p := GraphPoint{X: 100 * lp.Fraction, Y: 100 * lp.HitRate.Center}
		if lp.HitRate.OK() {
			p.Lo, p.Hi, p.HasErr = 100*lp.HitRate.Lo, 100*lp.HitRate.Hi, true
		}
		g.Lines = append(g.Lines, Line{Name: PolicyLabel(lp.Policy) + " (measured)", Policy: lp.Policy, Kind: LineMeasured, Points: []GraphPoint{p}})
	}
	return g
}

// WriteGraphs draws every graph of res into dir and returns them.
func WriteGraphs(dir string, res *results.Results) ([]Graph, error) {
	graphs := Graphs(res)
	for _, g := range graphs {
		if err := writeFile(filepath.Join(dir, g.File), func(w io.Writer) error { return WriteGraph(w, g) }); err != nil {
			return nil, err
		}
	}
	return graphs, nil
}

// writeFile writes a file through a temporary name, so a reader never sees half of it.
func writeFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// intervalShort names the interval of n runs of coverage c for a graph: "min–max, 75% coverage".
func intervalShort(n int, c float64) string {
	m, _ := interval.For(n)
	if m == interval.MethodRange {
		m = "min–max"
	}
	return fmt.Sprintf("%s, %s coverage", m, interval.Estimate{Coverage: c}.CoverageText())
}
