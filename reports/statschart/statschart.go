// Package statschart draws the charts of the cache statistics page from cache_stats rows.
package statschart

import (
	"errors"
	"fmt"
	"image/color"
	"imgcache/reports"
	"io"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Defaults of the statistics page's charts.
const (
	// DefaultSpan is how far back the statistics page looks.
	DefaultSpan = 10 * time.Minute
	// DefaultBucket is the width of one bucket: six 5-second rows, so each
	// bucket sums the same number of rows wherever the window starts.
	DefaultBucket = 30 * time.Second
	// MaxBucket is the coarsest bucket allowed: the page promises
	// 1-minute resolution or finer.
	MaxBucket = time.Minute
	// MaxBuckets bounds the work and memory one window may ask for.
	MaxBuckets = 4096
	// SummarySpan is the span over which Summary counts requests.
	SummarySpan = time.Minute

	// Width and Height are the chart size in points;
	// PNGs are drawn at 96 DPI, so a chart is 800×400 pixels.
	Width  vg.Length = 600
	Height vg.Length = 300
)

// ErrWindow is returned (wrapped) for a window that cannot be bucketed.
var ErrWindow = errors.New("invalid statistics window")

// ErrUnknownChart is returned (wrapped) by ParseChart.
var ErrUnknownChart = errors.New("unknown statistics chart")

// Point is one cache_stats row: the gauges at At and the counts of the
// interval that ended at At (not running totals, so sums survive restarts).
type Point struct {
	At       time.Time
	Items    int64 // items in the cache at At
	Bytes    int64 // bytes in the cache at At
	Requests int64 // lookups served during the interval
	Hits     int64 // of which hits
	Misses   int64 // of which misses
}

// Chart names one of the statistics page's charts.
type Chart int

// The statistics page's charts, in page order.
const (
	Items Chart = iota
	Bytes
	Requests
	HitRate
	MissRate
)

// Charts returns every chart kind in page order.
func Charts() []Chart {
	return []Chart{Items, Bytes, Requests, HitRate, MissRate}
}

// statsChartInfo is what differs between chart kinds.
type chartInfo struct {
	slug, title, yLabel string
	color               color.RGBA
}

func (c Chart) info() (chartInfo, bool) {
	switch c {
	case Items:
		return chartInfo{"items", "Items in cache", "items", color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}}, true
	case Bytes:
		return chartInfo{"size", "Total size of cached items", "size (MB, 2^20 bytes)", color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}}, true
	case Requests:
		return chartInfo{"requests", "Requests served", "requests per second", color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}}, true
	case HitRate:
		return chartInfo{"hit-rate", "Hit rate", "hits / lookups (%)", color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}}, true
	case MissRate:
		return chartInfo{"miss-rate", "Miss rate", "misses / lookups (%)", color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}}, true
	}
	return chartInfo{}, false
}

// String returns the chart's title.
func (c Chart) String() string {
	if in, ok := c.info(); ok {
		return in.title
	}
	return fmt.Sprintf("Chart(%d)", int(c))
}

// Slug returns the chart's URL name: items, size, requests, hit-rate or miss-rate.
func (c Chart) Slug() string {
	in, _ := c.info()
	return in.slug
}

// ParseChart returns the chart whose Slug is slug.
func ParseChart(slug string) (Chart, error) {
	for _, c := range Charts() {
		if c.Slug() == slug {
			return c, nil
		}
	}
	return 0, fmt.Errorf("parse stats chart %q: %w", slug, ErrUnknownChart)
}

// Window is the time span a chart covers and its bucket width.
// Buckets are laid back from To, each holding the points with
// Start < At <= End (a row's counts belong to the interval ending at its time);
// only the oldest bucket may be shorter, clipped at From.
// The zero value means the last DefaultSpan before now in DefaultBucket buckets.
type Window struct {
	From, To time.Time     // zero To: now; zero From: To - DefaultSpan
	Bucket   time.Duration // zero: DefaultBucket; at most MaxBucket
}

// LastWindow returns the page's default window ending at now.
func LastWindow(now time.Time) Window {
	return Window{From: now.Add(-DefaultSpan), To: now, Bucket: DefaultBucket}
}

// normalized fills in defaults and checks the window.
func (w Window) normalized() (Window, int, error) {
	if w.To.IsZero() {
		w.To = time.Now()
	}
	if w.From.IsZero() {
		w.From = w.To.Add(-DefaultSpan)
	}
	if w.Bucket == 0 {
		w.Bucket = DefaultBucket
	}
	switch {
	case w.Bucket < 0 || w.Bucket > MaxBucket:
		return w, 0, fmt.Errorf("bucket %v not in (0, %v]: %w", w.Bucket, MaxBucket, ErrWindow)
	case !w.To.After(w.From):
		return w, 0, fmt.Errorf("window from %v to %v is empty: %w", w.From, w.To, ErrWindow)
	}
	span := w.To.Sub(w.From)
	n := span / w.Bucket
	if span%w.Bucket != 0 {
		n++
	}
	if n > MaxBuckets {
		return w, 0, fmt.Errorf("%v in %v buckets is more than %d buckets: %w", span, w.Bucket, MaxBuckets, ErrWindow)
	}
	return w, int(n), nil
}

// Bucket is one bucket of a window: the newest gauges in it and the sums
// of its counts. A bucket with no points (Points == 0) has no data at all,
// which is not the same as a bucket whose rows counted zero requests.
type Bucket struct {
	Start, End time.Time // the bucket holds points with Start < At <= End
	Points     int       // number of points that fell in the bucket
	Items      int64     // gauge of the newest point; meaningful when Points > 0
	Bytes      int64     // gauge of the newest point; meaningful when Points > 0
	Requests   int64     // sum over the bucket's points
	Hits       int64     // sum over the bucket's points
	Misses     int64     // sum over the bucket's points
}

// Lookups returns hits plus misses, the denominator of both rates.
func (b Bucket) Lookups() int64 { return b.Hits + b.Misses }

// HitRate returns hits/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (b Bucket) HitRate() float64 { return statsRatio(b.Hits, b.Lookups()) }

// MissRate returns misses/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (b Bucket) MissRate() float64 { return statsRatio(b.Misses, b.Lookups()) }

// RequestsPerSecond returns the bucket's requests divided by its width.
func (b Bucket) RequestsPerSecond() float64 {
	return float64(b.Requests) / b.End.Sub(b.Start).Seconds()
}

func statsRatio(n, d int64) float64 {
	if d <= 0 {
		return math.NaN()
	}
	return float64(n) / float64(d)
}

// Bucketize folds points into the window's buckets, oldest first. Points need
// not be sorted; points outside (From, To] are ignored. Gauges come from the
// newest point of a bucket (the later one in points on a tie, so a restart's
// reset shows); counts are summed, and negative counts (a corrupt row) count
// as zero.
func Bucketize(points []Point, w Window) ([]Bucket, error) {
	w, n, err := w.normalized()
	if err != nil {
		return nil, fmt.Errorf("bucketize: %w", err)
	}
	buckets := make([]Bucket, n)
	for i := range buckets {
		end := w.To.Add(-time.Duration(n-1-i) * w.Bucket)
		start := end.Add(-w.Bucket)
		if start.Before(w.From) {
			start = w.From
		}
		buckets[i].Start, buckets[i].End = start, end
	}
	newest := make([]time.Time, n)
	for _, p := range points {
		if !p.At.After(w.From) || p.At.After(w.To) {
			continue
		}
		i := n - 1 - int(w.To.Sub(p.At)/w.Bucket)
		b := &buckets[i]
		if b.Points == 0 || !p.At.Before(newest[i]) {
			newest[i] = p.At
			b.Items, b.Bytes = p.Items, p.Bytes
		}
		b.Points++
		b.Requests += max(p.Requests, 0)
		b.Hits += max(p.Hits, 0)
		b.Misses += max(p.Misses, 0)
	}
	return buckets, nil
}

// value returns the bucket's value on chart c, and false where it has none.
func (c Chart) value(b Bucket) (float64, bool) {
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

// WritePNG draws chart c of points over win as an 800×400 PNG.
// A window with no data still gets its titled axes and a "no data yet" note.
func WritePNG(w io.Writer, c Chart, points []Point, win Window) error {
	buckets, err := Bucketize(points, win)
	if err != nil {
		return fmt.Errorf("stats chart %s: %w", c.Slug(), err)
	}
	p, err := plotChart(c, buckets)
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

// statsUnix is the x coordinate of t: seconds since the Unix epoch.
func statsUnix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// plotChart builds chart c from non-empty buckets.
func plotChart(c Chart, buckets []Bucket) (*plot.Plot, error) {
	in, ok := c.info()
	if !ok {
		return nil, fmt.Errorf("%v: %w", c, ErrUnknownChart)
	}
	from, to := buckets[0].Start, buckets[len(buckets)-1].End
	width := buckets[len(buckets)-1].End.Sub(buckets[len(buckets)-1].Start)

	p := reports.NewPlot()
	p.Title.Text = in.title
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = fmt.Sprintf("time (UTC), %v buckets", width)
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
		v, ok := c.value(b)
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

	p.Y.Min = 0
	switch c {
	case HitRate, MissRate:
		p.Y.Max = 100
	case Items:
		p.Y.Max = math.Max(5, ymax*1.1)
		p.Y.Tick.Marker = statsCountTicks{} // whole items: "2.50 items" means nothing
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

// statsClockTicks marks a Unix-seconds axis at round clock times in UTC.
type statsClockTicks struct{}

var _ plot.Ticker = statsClockTicks{}

// Ticks implements plot.Ticker with at most about seven labelled ticks.
func (statsClockTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return nil
	}
	// Candidate distances between labelled ticks, in seconds; each divides a
	// day, so multiples of a step are round clock times.
	steps := [...]int64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if (max-min)/float64(s) <= 7 {
			step = s
			break
		}
	}
	format := "15:04:05"
	if step%60 == 0 {
		format = "15:04"
	}
	minor := step / 2
	if minor == 0 || step%2 != 0 {
		minor = step // no minor ticks
	}
	var ticks []plot.Tick
	for t := int64(math.Ceil(min/float64(minor))) * minor; float64(t) <= max; t += minor {
		tick := plot.Tick{Value: float64(t)}
		if t%step == 0 {
			tick.Label = time.Unix(t, 0).UTC().Format(format)
		}
		ticks = append(ticks, tick)
	}
	return ticks
}

// statsCountTicks labels a count axis at whole numbers: steps of 1, 2 or 5 times a power of ten, at
// most six labels.
type statsCountTicks struct{}

var _ plot.Ticker = statsCountTicks{}

// Ticks returns the ticks between lo and hi.
func (statsCountTicks) Ticks(lo, hi float64) []plot.Tick {
	if math.IsInf(hi-lo, 0) || math.IsNaN(hi-lo) {
		return nil // no step would ever be wide enough
	}
	step := 1.0
	for i := 0; (hi-lo)/step > 5; i++ {
		step *= []float64{2, 2.5, 2}[i%3] // 1, 2, 5, 10, 20, 50, ...
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}

// Summary is the statistics page's current figures.
type Summary struct {
	At       time.Time     // time of the newest point; zero when there is none
	Items    int64         // items in the cache at At
	Bytes    int64         // bytes in the cache at At
	Span     time.Duration // the span the counts cover, ending at the summary's now
	Requests int64         // requests served in Span
	Hits     int64         // hits in Span
	Misses   int64         // misses in Span
}

// Summarize returns the newest gauges at or before now and the counts of the
// SummarySpan ending at now. Points need not be sorted.
func Summarize(points []Point, now time.Time) Summary {
	s := Summary{Span: SummarySpan}
	from := now.Add(-s.Span)
	found := false
	for _, p := range points {
		if p.At.After(now) {
			continue
		}
		if !found || !p.At.Before(s.At) {
			found = true
			s.At, s.Items, s.Bytes = p.At, p.Items, p.Bytes
		}
		if p.At.After(from) {
			s.Requests += max(p.Requests, 0)
			s.Hits += max(p.Hits, 0)
			s.Misses += max(p.Misses, 0)
		}
	}
	return s
}

// Lookups returns hits plus misses, the denominator of both rates.
func (s Summary) Lookups() int64 { return s.Hits + s.Misses }

// HitRate returns hits/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (s Summary) HitRate() float64 { return statsRatio(s.Hits, s.Lookups()) }

// MissRate returns misses/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (s Summary) MissRate() float64 { return statsRatio(s.Misses, s.Lookups()) }

// RequestsPerSecond returns the requests of Span divided by its length.
func (s Summary) RequestsPerSecond() float64 {
	return float64(s.Requests) / s.Span.Seconds()
}
