package bench

import (
	"fmt"
	"hash/fnv"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"imgcache/reports"
	"imgcache/reports/results"
)

// palette is Okabe and Ito's, readable by the colour-blind; the first four are LRU's, Random's,
// SIEVE's and S3-FIFO's.
func palette() [6]color.RGBA {
	return [...]color.RGBA{
		{0, 114, 178, 255},   // blue
		{213, 94, 0, 255},    // vermilion
		{0, 158, 115, 255},   // bluish green
		{204, 121, 167, 255}, // reddish purple
		{230, 159, 0, 255},   // orange
		{86, 180, 233, 255},  // sky blue
	}
}

// policyColor gives each policy one colour on every graph; a policy the graphs do not know
// (one added to the memcache later) gets a colour of the palette chosen by its name.
func policyColor(policy string) color.Color {
	switch policy {
	case results.PolicyLRU:
		return palette()[0]
	case results.PolicyRandom:
		return palette()[1]
	case results.PolicySIEVE:
		return palette()[2]
	case results.PolicyS3FIFO:
		return palette()[3]
	case results.PolicyOff, results.CurveBelady:
		return color.RGBA{40, 40, 40, 255} // near black
	case "":
		return color.RGBA{150, 150, 150, 255}
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(policy))
	pal := palette()
	return pal[4+int(h.Sum32()%uint32(len(pal)-4))]
}

// policyMarks gives each policy its glyph, and lines of decreasing width in drawing order: where
// policies perform alike their lines coincide, and the wider line drawn first still shows around
// the narrower ones.
func policyMarks(policy string) (draw.GlyphDrawer, vg.Length, vg.Length) {
	switch policy {
	case results.PolicyLRU:
		return draw.CircleGlyph{}, vg.Points(3.2), vg.Points(3.5)
	case results.PolicyRandom:
		return draw.TriangleGlyph{}, vg.Points(2), vg.Points(3)
	case results.PolicyOff:
		return draw.BoxGlyph{}, vg.Points(1), vg.Points(2)
	}
	return draw.PyramidGlyph{}, vg.Points(1.5), vg.Points(3)
}

// errPoints feeds gonum's error bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// newPlot builds the gonum plot of g.
func newPlot(g Graph) (*plot.Plot, error) {
	p := reports.NewPlot()
	p.Title.Text = g.Title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = g.XLabel
	p.Y.Label.Text = g.YLabel
	// One legend position for every graph: top left, which the data leave free (latency and
	// hit rates rise to the right; no throughput can lie above y = x).
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(legendFontPts)
	p.Add(plotter.NewGrid())

	// The axes first, from the points: an interval of a few runs can reach far past them, and
	// its bar is cut at the frame rather than squeezing the data into a corner.
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, l := range g.Lines {
		for _, pt := range l.Points {
			xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
			ymin, ymax = math.Min(ymin, pt.Y), math.Max(ymax, pt.Y)
		}
	}
	if math.IsInf(xmin, 0) { // nothing measured: an empty frame that says so
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		if err := reports.AddNote(p, "no measurements"); err != nil {
			return nil, err
		}
		return p, nil
	}
	setAxes(p, g, xmin, xmax, ymin, ymax)

	saturated := false
	for _, l := range g.Lines {
		if len(l.Points) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(l.Points))
		var sat plotter.XYs
		var eb errPoints
		for i, pt := range l.Points {
			xys[i] = plotter.XY{X: pt.X, Y: pt.Y}
			if pt.HasErr {
				lo, hi := math.Max(pt.Lo, p.Y.Min), math.Min(pt.Hi, p.Y.Max)
				eb.XYs = append(eb.XYs, plotter.XY{X: pt.X, Y: pt.Y})
				eb.YErrors = append(eb.YErrors, struct{ Low, High float64 }{max(pt.Y-lo, 0), max(hi-pt.Y, 0)})
			}
			if pt.Saturated {
				sat = append(sat, xys[i])
			}
		}
		col := policyColor(l.Policy)
		glyph, width, radius := policyMarks(l.Policy)
		var thumbs []plot.Thumbnailer
		switch l.Kind {
		case LineIdeal, LineBelady, LineCurve, LineP50, LineP99, LineRate:
			line, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("%s: line %q: %w", g.File, l.Name, err)
			}
			line.Color, line.Width = col, width
			switch l.Kind {
			case LineP50:
				line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			case LineIdeal:
				line.Width, line.Dashes = vg.Points(1), []vg.Length{vg.Points(2), vg.Points(3)}
			case LineBelady:
				line.Width, line.Dashes = vg.Points(2), []vg.Length{vg.Points(6), vg.Points(3)}
			case LineCurve:
				line.Width = vg.Points(2)
			}
			p.Add(line)
			thumbs = append(thumbs, line)
		}
		if l.Kind != LineIdeal && l.Kind != LineBelady && l.Kind != LineCurve {
			dots, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("%s: points %q: %w", g.File, l.Name, err)
			}
			dots.Color, dots.Shape, dots.Radius = col, glyph, radius
			switch l.Kind {
			case LineSearch:
				dots.Shape, dots.Radius = draw.RingGlyph{}, vg.Points(2.5)
			case LineMeasured:
				dots.Radius = vg.Points(5)
			}
			p.Add(dots)
			thumbs = append(thumbs, dots)
		}
		if len(eb.XYs) > 0 {
			bars, err := plotter.NewYErrorBars(eb)
			if err != nil {
				return nil, fmt.Errorf("%s: error bars %q: %w", g.File, l.Name, err)
			}
			bars.Color, bars.LineStyle.Width, bars.CapWidth = col, vg.Points(1), vg.Points(5)
			p.Add(bars)
		}
		if len(sat) > 0 {
			rings, err := plotter.NewScatter(sat)
			if err != nil {
				return nil, fmt.Errorf("%s: saturated %q: %w", g.File, l.Name, err)
			}
			rings.Color, rings.Shape, rings.Radius = color.Black, draw.RingGlyph{}, vg.Points(7)
			p.Add(rings)
			saturated = true
		}
		if l.Kind != LineSearch {
			p.Legend.Add(l.Name, thumbs...)
		}
	}
	if saturated {
		ring, err := plotter.NewScatter(plotter.XYs{{X: 1, Y: 1}})
		if err != nil {
			return nil, err
		}
		ring.Color, ring.Shape, ring.Radius = color.Black, draw.RingGlyph{}, vg.Points(5)
		p.Legend.Add("saturated (in at least one run)", ring)
	}
	return p, nil
}

// setAxes sets the ranges, scales and ticks of g's axes around the data's extent.
func setAxes(p *plot.Plot, g Graph, xmin, xmax, ymin, ymax float64) {
	p.X.Scale = plot.LogScale{}
	p.X.Min, p.X.Max = xmin/1.25, xmax*1.25
	if len(g.XTicks) > 0 {
		ticks := make(plot.ConstantTicks, 0, len(g.XTicks))
		for _, x := range g.XTicks {
			ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'f', -1, 64)})
		}
		p.X.Tick.Marker = ticks
	} else {
		p.X.Tick.Marker = logTicks{}
	}
	switch g.Kind {
	case KindMRC:
		// Hit rates in percent on a linear axis from 0, with room above for the legend.
		p.Y.Min, p.Y.Max = 0, math.Min(100, math.Max(10, ymax*1.45))
		p.Y.Tick.Marker = linearTicks{}
		return
	case KindThroughput:
		// The same range on both axes, so that y = x is the diagonal.
		lo, hi := math.Min(xmin, ymin)/1.25, math.Max(xmax, ymax)*1.25
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	default:
		p.Y.Min, p.Y.Max = ymin/1.5, ymax*4 // head room for the legend
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
}

// linearTicks labels a linear axis at a round step (1, 2 or 5 times a power of ten) that gives
// at most nine labels, with an unlabelled tick halfway between.
type linearTicks struct{}

var _ plot.Ticker = linearTicks{}

// Ticks returns the ticks between lo and hi.
func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return nil
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(m*step) <= 8 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step*2) * step / 2; v <= hi+1e-9*step; v += step / 2 {
		t := plot.Tick{Value: v}
		if math.Abs(math.Remainder(v, step)) < 1e-9*step {
			t.Label = strconv.FormatFloat(v, 'f', -1, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// logTicks labels a log axis at 1, 2 and 5 times the powers of ten, with unlabelled minor ticks
// between, so that a reader can read values off a span of one or two decades.
type logTicks struct{}

var _ plot.Ticker = logTicks{}

// Ticks returns the ticks between lo and hi (both > 0).
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
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

// WriteGraph draws g as an 800×500 PNG.
func WriteGraph(w io.Writer, g Graph) error {
	if g.Kind == KindCost {
		return drawCost(w, g)
	}
	p, err := newPlot(g)
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(GraphWidth, GraphHeight, "png")
	if err != nil {
		return fmt.Errorf("%s: %w", g.File, err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("%s: %w", g.File, err)
	}
	return nil
}
