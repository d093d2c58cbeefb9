package statschart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"imgcache/reports"
)

// Options are what a chart may show besides its series.
type Options struct {
	// Capacity is the cache's capacity in bytes, drawn as a dashed line on the size chart when
	// HasCapacity is set (a capacity of 0 means caching is off, which is worth a line too).
	Capacity    int64
	HasCapacity bool
}

// capacityColor draws the capacity line: a dark slate, apart from every series colour, and not a grey,
// which the anti-aliased text is made of.
var capacityColor = color.RGBA{R: 0x33, G: 0x41, B: 0x55, A: 0xff}

// Value returns the bucket's value on chart c in the chart's unit (items, MB, requests per second,
// percent), and false where it has none.
func (c Chart) Value(b Bucket) (float64, bool) {
	switch c {
	case Items:
		return float64(b.Items), b.Points > 0
	case Bytes:
		return float64(b.Bytes) / (1 << 20), b.Points > 0
	case Requests:
		return b.RequestsPerSecond(), b.Points > 0
	case HitRate:
		return 100 * b.HitRate(), b.Lookups() > 0
	case MissRate:
		return 100 * b.MissRate(), b.Lookups() > 0
	}
	return 0, false
}

// isGauge reports whether the chart shows a moment's value rather than an
// interval's count, which decides how its buckets are drawn.
func (c Chart) isGauge() bool { return c == Items || c == Bytes }

// WritePNG draws chart c of points over win as a Width×Height PNG, with no options.
func WritePNG(w io.Writer, c Chart, points []Point, win Window) error {
	return Draw(w, c, points, win, Options{})
}

// Draw draws chart c of points over win as a Width×Height PNG (480×300 pixels).
// A window with no data still gets its titled axes and a "no data yet" note.
func Draw(w io.Writer, c Chart, points []Point, win Window, opts Options) error {
	buckets, err := Bucketize(points, win)
	if err != nil {
		return fmt.Errorf("stats chart %s: %w", c.Slug(), err)
	}
	p, err := plotChart(c, buckets, opts)
	if err != nil {
		return fmt.Errorf("stats chart %s: %w", c.Slug(), err)
	}
	wt, err := p.WriterTo(Width, Height, "png")
	if err != nil {
		return fmt.Errorf("stats chart %s: %w", c.Slug(), err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("stats chart %s: write png: %w", c.Slug(), err)
	}
	return nil
}

// Latest returns chart c's value in the newest bucket that has one: what the chart shows now.
func (c Chart) Latest(buckets []Bucket) (float64, bool) {
	for i := len(buckets) - 1; i >= 0; i-- {
		if v, ok := c.Value(buckets[i]); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, true
		}
	}
	return 0, false
}

// BucketLabel writes a bucket width briefly: 15s, 2m, 30m, 1h.
func BucketLabel(d time.Duration) string {
	s := d.String() // 15s, 2m0s, 30m0s, 1h0m0s
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// statsUnix is the x coordinate of t: seconds since the Unix epoch.
func statsUnix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// plotChart builds chart c from non-empty buckets.
func plotChart(c Chart, buckets []Bucket, opts Options) (*plot.Plot, error) {
	in, ok := c.info()
	if !ok {
		return nil, fmt.Errorf("%v: %w", c, ErrUnknownChart)
	}
	from, to := buckets[0].Start, buckets[len(buckets)-1].End
	width := buckets[len(buckets)-1].End.Sub(buckets[len(buckets)-1].Start)

	p := reports.NewPlot()
	p.Title.Text = in.title
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = "time (UTC), " + BucketLabel(width) + " buckets"
	p.Y.Label.Text = in.yLabel
	p.X.Min, p.X.Max = statsUnix(from), statsUnix(to)
	p.X.Tick.Marker = statsClockTicks{}
	p.Add(plotter.NewGrid())

	// Runs of consecutive buckets that have a value become one line each, so
	// a gap (no rows: service down, or no lookups for a rate) shows as a gap.
	ymax, points, lookups := 0.0, 0, int64(0)
	var run plotter.XYs
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		if err := statsAddRun(p, c, run, in.color); err != nil {
			return err
		}
		run = nil
		return nil
	}
	for _, b := range buckets {
		points += b.Points
		lookups += b.Lookups()
		v, ok := c.Value(b)
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		ymax = math.Max(ymax, v)
		if len(run) == 0 && !c.isGauge() {
			// A count belongs to its whole bucket: start the step at Start.
			run = append(run, plotter.XY{X: statsUnix(b.Start), Y: v})
		}
		run = append(run, plotter.XY{X: statsUnix(b.End), Y: v})
	}
	if err := flush(); err != nil {
		return nil, err
	}

	if c == Bytes && opts.HasCapacity {
		mb := float64(opts.Capacity) / (1 << 20)
		if err := addCapacity(p, mb); err != nil {
			return nil, err
		}
		ymax = math.Max(ymax, mb)
	}

	p.Y.Min = 0
	switch c {
	case HitRate, MissRate:
		p.Y.Max = 100
	case Items:
		p.Y.Max = math.Max(5, ymax*1.1)
		p.Y.Tick.Marker = statsCountTicks{} // whole items: "2.50 items" means nothing
	case Bytes:
		p.Y.Max = math.Max(1, ymax*1.1)
		p.Y.Tick.Marker = statsSizeTicks{} // round MB: 0.2, 0.5, 1, 2, 5, 10, ... apart
	default:
		p.Y.Max = math.Max(1, ymax*1.1)
	}

	note := ""
	switch {
	case points == 0:
		note = "no data yet"
	case (c == HitRate || c == MissRate) && lookups == 0:
		note = "no lookups in this window"
	}
	if note != "" {
		if err := reports.AddNote(p, note); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// statsAddRun draws one gap-free run: gauges as a line through their
// samples, counts and rates as steps covering their buckets.
func statsAddRun(p *plot.Plot, c Chart, run plotter.XYs, col color.RGBA) error {
	line, err := plotter.NewLine(run)
	if err != nil {
		return err
	}
	line.Color = col
	line.Width = vg.Points(1.5)
	if !c.isGauge() {
		line.StepStyle = plotter.PreStep
		p.Add(line)
		return nil
	}
	dots, err := plotter.NewScatter(run)
	if err != nil {
		return err
	}
	dots.Color = col
	dots.Shape = draw.CircleGlyph{}
	dots.Radius = vg.Points(1.5)
	p.Add(line, dots)
	return nil
}

// addCapacity draws the capacity, mb, as a dashed line across the chart, named in the legend.
func addCapacity(p *plot.Plot, mb float64) error {
	line, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: mb}, {X: p.X.Max, Y: mb}})
	if err != nil {
		return err
	}
	line.Color = capacityColor
	line.Width = vg.Points(1.2)
	line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	p.Add(line)
	label := "capacity " + strconv.FormatFloat(mb, 'f', -1, 64) + " MB"
	if mb == 0 {
		label += " (caching off)"
	}
	p.Legend.Add(label, line)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	return nil
}
