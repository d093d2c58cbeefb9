// Package statschart draws the charts of the cache statistics page from cache_stats rows.
package statschart

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot/vg"
)

// Defaults of the statistics page's charts.
const (
	// DefaultSpan is how far back the statistics page looks.
	DefaultSpan = 10 * time.Minute
	// DefaultBucket is the width of one bucket: six 5-second rows, so each
	// bucket sums the same number of rows wherever the window starts.
	DefaultBucket = 30 * time.Second
	// MaxBucket is the coarsest bucket allowed: a 24-hour window in buckets of
	// up to an hour still has 24 points. The page's promise of 1-minute
	// buckets or finer for its 10-minute window is kept by the page's choice
	// of windows, not here.
	MaxBucket = time.Hour
	// MaxBuckets bounds the work and memory one window may ask for.
	MaxBuckets = 4096
	// SummarySpan is the span over which Summary counts requests.
	SummarySpan = time.Minute

	// Width and Height are the chart size in points; PNGs are drawn at 96
	// DPI, so a chart is 480×300 pixels: two fit side by side in the page's
	// column at their natural size.
	Width  vg.Length = 360
	Height vg.Length = 225
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
