package reports

import (
	"errors"
	"fmt"
	"image/color"
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
	// DefaultStatsSpan is how far back the statistics page looks.
	DefaultStatsSpan = 10 * time.Minute
	// DefaultStatsBucket is the width of one bucket: six 5-second rows, so each
	// bucket sums the same number of rows wherever the window starts.
	DefaultStatsBucket = 30 * time.Second
	// MaxStatsBucket is the coarsest bucket allowed: the page promises
	// 1-minute resolution or finer.
	MaxStatsBucket = time.Minute
	// MaxStatsBuckets bounds the work and memory one window may ask for.
	MaxStatsBuckets = 4096
	// StatsSummarySpan is the span over which StatsSummary counts requests.
	StatsSummarySpan = time.Minute

	// StatsChartWidth and StatsChartHeight are the chart size in points;
	// PNGs are drawn at 96 DPI, so a chart is 800×400 pixels.
	StatsChartWidth  vg.Length = 600
	StatsChartHeight vg.Length = 300
)

// ErrStatsWindow is returned (wrapped) for a window that cannot be bucketed.
var ErrStatsWindow = errors.New("invalid statistics window")

// ErrUnknownStatsChart is returned (wrapped) by ParseStatsChart.
var ErrUnknownStatsChart = errors.New("unknown statistics chart")

// StatsPoint is one cache_stats row: the gauges at At and the counts of the
// interval that ended at At (not running totals, so sums survive restarts).
type StatsPoint struct {
	At       time.Time
	Items    int64 // items in the cache at At
	Bytes    int64 // bytes in the cache at At
	Requests int64 // lookups served during the interval
	Hits     int64 // of which hits
	Misses   int64 // of which misses
}

// StatsChart names one of the statistics page's charts.
type StatsChart int

// The statistics page's charts, in page order.
const (
	StatsItems StatsChart = iota
	StatsBytes
	StatsRequests
	StatsHitRate
	StatsMissRate
)

// StatsCharts returns every chart kind in page order.
func StatsCharts() []StatsChart {
	return []StatsChart{StatsItems, StatsBytes, StatsRequests, StatsHitRate, StatsMissRate}
}

// statsChartInfo is what differs between chart kinds.
type statsChartInfo struct {
	slug, title, yLabel string
	color               color.RGBA
}

func (c StatsChart) info() (statsChartInfo, bool) {
	switch c {
	case StatsItems:
		return statsChartInfo{"items", "Items in cache", "items", color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}}, true
	case StatsBytes:
		return statsChartInfo{"size", "Total size of cached items", "size (MB, 2^20 bytes)", color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}}, true
	case StatsRequests:
		return statsChartInfo{"requests", "Requests served", "requests per second", color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}}, true
	case StatsHitRate:
		return statsChartInfo{"hit-rate", "Hit rate", "hits / lookups (%)", color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}}, true
	case StatsMissRate:
		return statsChartInfo{"miss-rate", "Miss rate", "misses / lookups (%)", color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}}, true
	}
	return statsChartInfo{}, false
}

// String returns the chart's title.
func (c StatsChart) String() string {
	if in, ok := c.info(); ok {
		return in.title
	}
	return fmt.Sprintf("StatsChart(%d)", int(c))
}

// Slug returns the chart's URL name: items, size, requests, hit-rate or miss-rate.
func (c StatsChart) Slug() string {
	in, _ := c.info()
	return in.slug
}

// ParseStatsChart returns the chart whose Slug is slug.
func ParseStatsChart(slug string) (StatsChart, error) {
	for _, c := range StatsCharts() {
		if c.Slug() == slug {
			return c, nil
		}
	}
	return 0, fmt.Errorf("parse stats chart %q: %w", slug, ErrUnknownStatsChart)
}

// StatsWindow is the time span a chart covers and its bucket width.
// Buckets are laid back from To, each holding the points with
// Start < At <= End (a row's counts belong to the interval ending at its time);
// only the oldest bucket may be shorter, clipped at From.
// The zero value means the last DefaultStatsSpan before now in DefaultStatsBucket buckets.
type StatsWindow struct {
	From, To time.Time     // zero To: now; zero From: To - DefaultStatsSpan
	Bucket   time.Duration // zero: DefaultStatsBucket; at most MaxStatsBucket
}

// LastStatsWindow returns the page's default window ending at now.
func LastStatsWindow(now time.Time) StatsWindow {
	return StatsWindow{From: now.Add(-DefaultStatsSpan), To: now, Bucket: DefaultStatsBucket}
}

// normalized fills in defaults and checks the window.
func (w StatsWindow) normalized() (StatsWindow, int, error) {
	if w.To.IsZero() {
		w.To = time.Now()
	}
	if w.From.IsZero() {
		w.From = w.To.Add(-DefaultStatsSpan)
	}
	if w.Bucket == 0 {
		w.Bucket = DefaultStatsBucket
	}
	switch {
	case w.Bucket < 0 || w.Bucket > MaxStatsBucket:
		return w, 0, fmt.Errorf("bucket %v not in (0, %v]: %w", w.Bucket, MaxStatsBucket, ErrStatsWindow)
	case !w.To.After(w.From):
		return w, 0, fmt.Errorf("window from %v to %v is empty: %w", w.From, w.To, ErrStatsWindow)
	}
	span := w.To.Sub(w.From)
	n := span / w.Bucket
	if span%w.Bucket != 0 {
		n++
	}
	if n > MaxStatsBuckets {
		return w, 0, fmt.Errorf("%v in %v buckets is more than %d buckets: %w", span, w.Bucket, MaxStatsBuckets, ErrStatsWindow)
	}
	return w, int(n), nil
}

// StatsBucket is one bucket of a window: the newest gauges in it and the sums
// of its counts. A bucket with no points (Points == 0) has no data at all,
// which is not the same as a bucket whose rows counted zero requests.
type StatsBucket struct {
	Start, End time.Time // the bucket holds points with Start < At <= End
	Points     int       // number of points that fell in the bucket
	Items      int64     // gauge of the newest point; meaningful when Points > 0
	Bytes      int64     // gauge of the newest point; meaningful when Points > 0
	Requests   int64     // sum over the bucket's points
	Hits       int64     // sum over the bucket's points
	Misses     int64     // sum over the bucket's points
}

// Lookups returns hits plus misses, the denominator of both rates.
func (b StatsBucket) Lookups() int64 { return b.Hits + b.Misses }

// HitRate returns hits/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (b StatsBucket) HitRate() float64 { return statsRatio(b.Hits, b.Lookups()) }

// MissRate returns misses/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (b StatsBucket) MissRate() float64 { return statsRatio(b.Misses, b.Lookups()) }

// RequestsPerSecond returns the bucket's requests divided by its width.
func (b StatsBucket) RequestsPerSecond() float64 {
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
func Bucketize(points []StatsPoint, w StatsWindow) ([]StatsBucket, error) {
	w, n, err := w.normalized()
	if err != nil {
		return nil, fmt.Errorf("bucketize: %w", err)
	}
	buckets := make([]StatsBucket, n)
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
func (c StatsChart) value(b StatsBucket) (float64, bool) {
	switch c {
	case StatsItems:
		return float64(b.Items), b.Points > 0
	case StatsBytes:
		return float64(b.Bytes) / (1 << 20), b.Points > 0
	case StatsRequests:
		return b.RequestsPerSecond(), b.Points > 0
	case StatsHitRate:
		return 100 * b.HitRate(), b.Lookups() > 0
	case StatsMissRate:
		return 100 * b.MissRate(), b.Lookups() > 0
	}
	return 0, false
}

// isGauge reports whether the chart shows a moment's value rather than an
// interval's count, which decides how its buckets are drawn.
func (c StatsChart) isGauge() bool { return c == StatsItems || c == StatsBytes }

// WriteStatsPNG draws chart c of points over win as an 800×400 PNG.
// A window with no data still gets its titled axes and a "no data yet" note.
func WriteStatsPNG(w io.Writer, c StatsChart, points []StatsPoint, win StatsWindow) error {
	buckets, err := Bucketize(points, win)
	if err != nil {
		return fmt.Errorf("stats chart %s: %w", c.Slug(), err)
	}
	p, err := statsPlot(c, buckets)
	if err != nil {
		return fmt.Errorf("stats chart %s: %w", c.Slug(), err)
	}
	wt, err := p.WriterTo(StatsChartWidth, StatsChartHeight, "png")
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

// statsPlot builds chart c from non-empty buckets.
func statsPlot(c StatsChart, buckets []StatsBucket) (*plot.Plot, error) {
	in, ok := c.info()
	if !ok {
		return nil, fmt.Errorf("%v: %w", c, ErrUnknownStatsChart)
	}
	from, to := buckets[0].Start, buckets[len(buckets)-1].End
	width := buckets[len(buckets)-1].End.Sub(buckets[len(buckets)-1].Start)

	p := newPlot()
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
	case StatsHitRate, StatsMissRate:
		p.Y.Max = 100
	case StatsItems:
		p.Y.Max = math.Max(5, ymax*1.1)
		p.Y.Tick.Marker = statsCountTicks{} // whole items: "2.50 items" means nothing
	default:
		p.Y.Max = math.Max(1, ymax*1.1)
	}

	note := ""
	switch {
	case points == 0:
		note = "no data yet"
	case (c == StatsHitRate || c == StatsMissRate) && lookups == 0:
		note = "no lookups in this window"
	}
	if note != "" {
		if err := addNote(p, note); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// statsAddRun draws one gap-free run: gauges as a line through their
// samples, counts and rates as steps covering their buckets.
func statsAddRun(p *plot.Plot, c StatsChart, run plotter.XYs, col color.RGBA) error {
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

// StatsSummary is the statistics page's current figures.
type StatsSummary struct {
	At       time.Time     // time of the newest point; zero when there is none
	Items    int64         // items in the cache at At
	Bytes    int64         // bytes in the cache at At
	Span     time.Duration // the span the counts cover, ending at the summary's now
	Requests int64         // requests served in Span
	Hits     int64         // hits in Span
	Misses   int64         // misses in Span
}

// Summarize returns the newest gauges at or before now and the counts of the
// StatsSummarySpan ending at now. Points need not be sorted.
func Summarize(points []StatsPoint, now time.Time) StatsSummary {
	s := StatsSummary{Span: StatsSummarySpan}
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
func (s StatsSummary) Lookups() int64 { return s.Hits + s.Misses }

// HitRate returns hits/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (s StatsSummary) HitRate() float64 { return statsRatio(s.Hits, s.Lookups()) }

// MissRate returns misses/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (s StatsSummary) MissRate() float64 { return statsRatio(s.Misses, s.Lookups()) }

// RequestsPerSecond returns the requests of Span divided by its length.
func (s StatsSummary) RequestsPerSecond() float64 {
	return float64(s.Requests) / s.Span.Seconds()
}
