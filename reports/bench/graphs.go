// Package bench draws the benchmark's latency and throughput graphs and writes the report around them
// (index.html, summary.md, results.csv) from a run's loadgen.Results.
package bench

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"imgcache/loadgen"
	"imgcache/reports"
)

// Size of a bench graph: 600×375 points, which gonum/plot saves as an 800×500 PNG (96 DPI).
const (
	BenchGraphWidth  = 600 * vg.Inch / 72
	BenchGraphHeight = 375 * vg.Inch / 72
)

// Kinds of bench graph and line.
const (
	BenchLatency    = "latency"
	BenchThroughput = "throughput"

	BenchLineP50   = "p50"
	BenchLineP99   = "p99"
	BenchLineRate  = "achieved"
	BenchLineIdeal = "ideal"
)

// BenchPoint is a point of a bench line: x is the offered rate (requests/s), y a latency in
// milliseconds or a throughput in responses/s.
type BenchPoint struct {
	X, Y float64
}

// BenchLine is one line of a bench graph.
type BenchLine struct {
	Name   string // legend text, e.g. "LRU p99"
	Policy string // loadgen.PolicyLRU, PolicyRandom, PolicyOff; "" for the ideal line
	Kind   string // BenchLineP50, BenchLineP99, BenchLineRate or BenchLineIdeal
	Points []BenchPoint
}

// BenchGraph is the data of one of the six graphs, independent of how it is drawn.
type BenchGraph struct {
	Kind   string // BenchLatency or BenchThroughput
	Mix    loadgen.Mix
	File   string // PNG file name, e.g. "latency-80-20.png"
	Title  string
	XLabel string
	YLabel string
	XTicks []float64 // the offered rates of the sweep
	Lines  []BenchLine
}

// BenchGraphs returns, for each mix of res in run order, its latency graph and its throughput
// graph: the six graphs of a default run.
func BenchGraphs(res *loadgen.Results) []BenchGraph {
	var out []BenchGraph
	for _, mix := range res.Mixes() {
		out = append(out, benchLatencyGraph(res, mix), benchThroughputGraph(res, mix))
	}
	return out
}

// BenchPolicyLabel names a policy for people: "LRU", "Random", "cache off".
func BenchPolicyLabel(policy string) string {
	if policy == loadgen.PolicyOff {
		return "cache off"
	}
	return policy
}

func benchSubtitle(res *loadgen.Results) string {
	d := res.Dataset
	return fmt.Sprintf("%d images (%s, median %s), %s keys; cache %d MB (%.0f%% of the cached data set)",
		d.Images, benchBytes(d.Bytes), benchBytes(int64(d.MedianBytes)), res.Params.Popularity,
		res.Params.CapacityMB, 100*benchCacheShare(res))
}

// benchCacheShare is the capacity as a share of what the whole data set takes in the cache.
func benchCacheShare(res *loadgen.Results) float64 {
	if res.Dataset.StoredBytes == 0 {
		return 0
	}
	return float64(res.Params.CapacityMB) * (1 << 20) / float64(res.Dataset.StoredBytes)
}

func benchBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func benchSlug(kind string, mix loadgen.Mix) string {
	return fmt.Sprintf("%s-%d-%d.png", kind, mix.Reads, mix.Writes)
}

func benchSeriesOf(res *loadgen.Results, mix loadgen.Mix) []loadgen.Series {
	var out []loadgen.Series
	for _, s := range res.Series {
		if s.Mix == mix {
			out = append(out, s)
		}
	}
	return out
}

func benchRates(series []loadgen.Series) []float64 {
	var rates []float64
	for _, s := range series {
		for _, st := range s.Steps {
			rates = append(rates, st.Offered)
		}
	}
	slices.Sort(rates)
	return slices.Compact(rates)
}

func benchLatencyGraph(res *loadgen.Results, mix loadgen.Mix) BenchGraph {
	series := benchSeriesOf(res, mix)
	g := BenchGraph{
		Kind:   BenchLatency,
		Mix:    mix,
		File:   benchSlug(BenchLatency, mix),
		Title:  fmt.Sprintf("Latency at reads:writes %s (p50 dashed, p99 solid)\n%s", mix, benchSubtitle(res)),
		XLabel: "offered rate (requests/s, log scale)",
		YLabel: "latency of all requests (ms, log scale)",
		XTicks: benchRates(series),
	}
	for _, s := range series {
		for _, q := range []string{BenchLineP50, BenchLineP99} {
			l := BenchLine{Name: BenchPolicyLabel(s.Policy) + " " + q, Policy: s.Policy, Kind: q}
			for _, st := range s.Steps {
				d := st.All.P50
				if q == BenchLineP99 {
					d = st.All.P99
				}
				if st.All.Requests > 0 && d > 0 {
					l.Points = append(l.Points, BenchPoint{st.Offered, float64(d) / float64(time.Millisecond)})
				}
			}
			g.Lines = append(g.Lines, l)
		}
	}
	return g
}

func benchThroughputGraph(res *loadgen.Results, mix loadgen.Mix) BenchGraph {
	series := benchSeriesOf(res, mix)
	g := BenchGraph{
		Kind:   BenchThroughput,
		Mix:    mix,
		File:   benchSlug(BenchThroughput, mix),
		Title:  fmt.Sprintf("Throughput at reads:writes %s\n%s", mix, benchSubtitle(res)),
		XLabel: "offered rate (requests/s, log scale)",
		YLabel: "achieved (successful responses/s, log scale)",
		XTicks: benchRates(series),
	}
	for _, s := range series {
		l := BenchLine{Name: BenchPolicyLabel(s.Policy), Policy: s.Policy, Kind: BenchLineRate}
		for _, st := range s.Steps {
			if st.Throughput > 0 {
				l.Points = append(l.Points, BenchPoint{st.Offered, st.Throughput})
			}
		}
		g.Lines = append(g.Lines, l)
	}
	if n := len(g.XTicks); n > 0 {
		lo, hi := g.XTicks[0], g.XTicks[n-1]
		g.Lines = append(g.Lines, BenchLine{Name: "ideal (y = x)", Kind: BenchLineIdeal,
			Points: []BenchPoint{{lo, lo}, {hi, hi}}})
	}
	return g
}

// benchColors gives each policy one colour on every graph (Okabe–Ito, readable by the colour-blind).
func benchColor(policy string) color.Color {
	switch policy {
	case loadgen.PolicyLRU:
		return color.RGBA{0, 114, 178, 255} // blue
	case loadgen.PolicyRandom:
		return color.RGBA{213, 94, 0, 255} // vermilion
	case loadgen.PolicyOff:
		return color.RGBA{60, 60, 60, 255} // near black
	}
	return color.RGBA{150, 150, 150, 255}
}

// benchMarks gives each policy its glyph, and lines of decreasing width in drawing order: where
// policies perform alike their lines coincide, and the wider line drawn first still shows around
// the narrower ones.
func benchMarks(policy string) (draw.GlyphDrawer, vg.Length, vg.Length) {
	switch policy {
	case loadgen.PolicyLRU:
		return draw.CircleGlyph{}, vg.Points(3.2), vg.Points(3.5)
	case loadgen.PolicyRandom:
		return draw.TriangleGlyph{}, vg.Points(2), vg.Points(3)
	}
	return draw.BoxGlyph{}, vg.Points(1), vg.Points(2)
}

// benchPlot builds the gonum plot of g.
func benchPlot(g BenchGraph) (*plot.Plot, error) {
	p := reports.NewPlot()
	p.Title.Text = g.Title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = g.XLabel
	p.Y.Label.Text = g.YLabel
	p.Legend.Top = true
	p.Legend.Left = g.Kind == BenchThroughput
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Add(plotter.NewGrid())

	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, l := range g.Lines {
		if len(l.Points) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(l.Points))
		for i, pt := range l.Points {
			xys[i] = plotter.XY{X: pt.X, Y: pt.Y}
			xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
			ymin, ymax = math.Min(ymin, pt.Y), math.Max(ymax, pt.Y)
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("%s: line %q: %w", g.File, l.Name, err)
		}
		line.Color = benchColor(l.Policy)
		glyph, width, radius := benchMarks(l.Policy)
		line.Width = width
		switch l.Kind {
		case BenchLineP50:
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		case BenchLineIdeal:
			line.Width = vg.Points(1)
			line.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
			p.Add(line)
			p.Legend.Add(l.Name, line)
			continue
		}
		dots, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, fmt.Errorf("%s: points %q: %w", g.File, l.Name, err)
		}
		dots.Color = line.Color
		dots.Shape = glyph
		dots.Radius = radius
		p.Add(line, dots)
		p.Legend.Add(l.Name, line, dots)
	}
	if math.IsInf(xmin, 0) { // nothing measured: an empty frame that says so
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		if err := reports.AddNote(p, "no measurements"); err != nil {
			return nil, err
		}
		return p, nil
	}
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Min, p.X.Max = xmin/1.25, xmax*1.25
	p.Y.Min, p.Y.Max = ymin/1.5, ymax*2.5 // head room for the legend
	if g.Kind == BenchThroughput {
		// The same range on both axes, so that y = x is the diagonal; the legend sits above it,
		// where no measurement can be.
		lo, hi := math.Min(xmin, ymin)/1.25, math.Max(xmax, ymax)*1.25
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	}
	ticks := make(plot.ConstantTicks, 0, len(g.XTicks))
	for _, x := range g.XTicks {
		ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'f', -1, 64)})
	}
	p.X.Tick.Marker = ticks
	p.Y.Tick.Marker = benchLogTicks{}
	return p, nil
}

// benchLogTicks labels a log axis at 1, 2 and 5 times the powers of ten, with unlabelled minor
// ticks between, so that a reader can read values off a span of one or two decades.
type benchLogTicks struct{}

var _ plot.Ticker = benchLogTicks{}

// Ticks returns the ticks between lo and hi (both > 0).
func (benchLogTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 4, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// WriteBenchGraph draws g as an 800×500 PNG.
func WriteBenchGraph(w io.Writer, g BenchGraph) error {
	p, err := benchPlot(g)
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(BenchGraphWidth, BenchGraphHeight, "png")
	if err != nil {
		return fmt.Errorf("%s: %w", g.File, err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("%s: %w", g.File, err)
	}
	return nil
}

// WriteBenchGraphs draws every graph of res into dir and returns them.
func WriteBenchGraphs(dir string, res *loadgen.Results) ([]BenchGraph, error) {
	graphs := BenchGraphs(res)
	for _, g := range graphs {
		if err := benchWriteFile(filepath.Join(dir, g.File), func(w io.Writer) error { return WriteBenchGraph(w, g) }); err != nil {
			return nil, err
		}
	}
	return graphs, nil
}

// benchWriteFile writes a file through a temporary name, so a reader never sees half of it.
func benchWriteFile(path string, write func(io.Writer) error) error {
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

// benchMillis formats a duration in milliseconds for tables.
func benchMillis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 100:
		return strconv.FormatFloat(ms, 'f', 0, 64)
	case ms >= 10:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 2, 64)
}
