package statschart

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"

	"imgcache/reports"
)

// statsT0 is the end of the test windows.
var statsT0 = time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)

// statsAt returns the time d after statsT0 (d is usually negative).
func statsAt(d time.Duration) time.Time { return statsT0.Add(d) }

func TestStatsChartNames(t *testing.T) {
	want := []struct {
		c          Chart
		slug, name string
	}{
		{Items, "items", "Items in cache"},
		{Bytes, "size", "Total size of cached items"},
		{Requests, "requests", "Requests served"},
		{HitRate, "hit-rate", "Hit rate"},
		{MissRate, "miss-rate", "Miss rate"},
	}
	if got := Charts(); len(got) != len(want) {
		t.Fatalf("Charts() has %d charts, want %d", len(got), len(want))
	}
	for i, w := range want {
		t.Run(w.slug, func(t *testing.T) {
			if got := Charts()[i]; got != w.c {
				t.Errorf("Charts()[%d] = %v, want %v", i, got, w.c)
			}
			if got := w.c.Slug(); got != w.slug {
				t.Errorf("Slug() = %q, want %q", got, w.slug)
			}
			if got := w.c.String(); got != w.name {
				t.Errorf("String() = %q, want %q", got, w.name)
			}
			got, err := ParseChart(w.slug)
			if err != nil || got != w.c {
				t.Errorf("ParseChart(%q) = %v, %v, want %v, nil", w.slug, got, err, w.c)
			}
		})
	}
	for _, bad := range []string{"", "Items", "hit_rate", "../items"} {
		if _, err := ParseChart(bad); !errors.Is(err, ErrUnknownChart) {
			t.Errorf("ParseChart(%q) error = %v, want ErrUnknownChart", bad, err)
		}
	}
	if got, want := Chart(99).String(), "Chart(99)"; got != want {
		t.Errorf("Chart(99).String() = %q, want %q", got, want)
	}
}

// statsWant is the expected content of one bucket (its bounds are checked
// by TestBucketizeBounds).
type statsWant struct {
	points                          int
	items, bytes, req, hits, misses int64
}

func statsGot(b Bucket) statsWant {
	return statsWant{b.Points, b.Items, b.Bytes, b.Requests, b.Hits, b.Misses}
}

func TestBucketize(t *testing.T) {
	// A one-minute window of two 30-second buckets:
	// bucket 0 holds (t0-60s, t0-30s], bucket 1 holds (t0-30s, t0].
	win := Window{From: statsAt(-time.Minute), To: statsT0, Bucket: 30 * time.Second}
	p := func(d time.Duration, items, bytes, req, hits, misses int64) Point {
		return Point{At: statsAt(d), Items: items, Bytes: bytes, Requests: req, Hits: hits, Misses: misses}
	}
	s := time.Second
	tests := []struct {
		name   string
		points []Point
		want   [2]statsWant
	}{
		{
			name: "no points",
			want: [2]statsWant{},
		},
		{
			name: "gauges are the newest value, counts are sums",
			points: []Point{
				p(-55*s, 1, 100, 4, 1, 3),
				p(-50*s, 2, 200, 6, 4, 2),
				p(-35*s, 3, 300, 10, 9, 1),
				p(-25*s, 4, 400, 2, 2, 0),
				p(-5*s, 5, 500, 8, 6, 2),
			},
			want: [2]statsWant{{3, 3, 300, 20, 14, 6}, {2, 5, 500, 10, 8, 2}},
		},
		{
			name: "unsorted input",
			points: []Point{
				p(-35*s, 3, 300, 10, 9, 1),
				p(-55*s, 1, 100, 4, 1, 3),
				p(-5*s, 5, 500, 8, 6, 2),
				p(-50*s, 2, 200, 6, 4, 2),
			},
			want: [2]statsWant{{3, 3, 300, 20, 14, 6}, {1, 5, 500, 8, 6, 2}},
		},
		{
			name:   "empty bucket stays empty",
			points: []Point{p(-10*s, 7, 700, 3, 1, 2)},
			want:   [2]statsWant{{}, {1, 7, 700, 3, 1, 2}},
		},
		{
			name: "points outside the window are ignored",
			points: []Point{
				p(-61*s, 9, 900, 100, 100, 0),
				p(-60*s, 9, 900, 100, 100, 0), // on From: belongs to the bucket before
				p(1*s, 9, 900, 100, 100, 0),
				p(time.Hour, 9, 900, 100, 100, 0),
			},
			want: [2]statsWant{},
		},
		{
			name: "a point on a bucket's end belongs to it",
			points: []Point{
				p(-30*s, 1, 10, 1, 1, 0),
				p(0, 2, 20, 2, 0, 2), // on To: inside
			},
			want: [2]statsWant{{1, 1, 10, 1, 1, 0}, {1, 2, 20, 2, 0, 2}},
		},
		{
			name: "restart resets gauges and counts keep summing",
			points: []Point{
				p(-20*s, 50, 5000, 30, 25, 5),
				p(-15*s, 50, 5000, 40, 30, 10),
				p(-12*s, 0, 0, 0, 0, 0), // restarted: empty cache
				p(-7*s, 2, 300, 5, 0, 5),
			},
			want: [2]statsWant{{}, {4, 2, 300, 75, 55, 20}},
		},
		{
			name: "same time twice: the later row wins the gauges",
			points: []Point{
				p(-10*s, 50, 5000, 3, 3, 0),
				p(-10*s, 0, 0, 1, 0, 1),
			},
			want: [2]statsWant{{}, {2, 0, 0, 4, 3, 1}},
		},
		{
			name:   "negative counts count as zero",
			points: []Point{p(-40*s, 1, 1, -5, -3, -2), p(-45*s, 1, 1, 2, 1, 1)},
			want:   [2]statsWant{{2, 1, 1, 2, 1, 1}, {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Bucketize(tt.points, win)
			if err != nil {
				t.Fatalf("Bucketize: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Bucketize gave %d buckets, want %d", len(got), len(tt.want))
			}
			for i, b := range got {
				if g := statsGot(b); g != tt.want[i] {
					t.Errorf("bucket %d = %+v, want %+v", i, g, tt.want[i])
				}
			}
		})
	}
}

func TestBucketizeBounds(t *testing.T) {
	tests := []struct {
		name  string
		win   Window
		n     int
		first [2]time.Time // Start, End of the oldest bucket
		width time.Duration
	}{
		{
			name:  "default page window",
			win:   LastWindow(statsT0),
			n:     20,
			first: [2]time.Time{statsAt(-10 * time.Minute), statsAt(-570 * time.Second)},
			width: 30 * time.Second,
		},
		{
			name:  "zero bucket and From mean the defaults",
			win:   Window{To: statsT0},
			n:     20,
			first: [2]time.Time{statsAt(-10 * time.Minute), statsAt(-570 * time.Second)},
			width: 30 * time.Second,
		},
		{
			name:  "5 s buckets",
			win:   Window{From: statsAt(-10 * time.Minute), To: statsT0, Bucket: 5 * time.Second},
			n:     120,
			first: [2]time.Time{statsAt(-10 * time.Minute), statsAt(-595 * time.Second)},
			width: 5 * time.Second,
		},
		{
			name:  "oldest bucket clipped at From",
			win:   Window{From: statsAt(-70 * time.Second), To: statsT0, Bucket: time.Minute},
			n:     2,
			first: [2]time.Time{statsAt(-70 * time.Second), statsAt(-time.Minute)},
			width: time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Bucketize(nil, tt.win)
			if err != nil {
				t.Fatalf("Bucketize: %v", err)
			}
			if len(got) != tt.n {
				t.Fatalf("Bucketize gave %d buckets, want %d", len(got), tt.n)
			}
			if got[0].Start != tt.first[0] || got[0].End != tt.first[1] {
				t.Errorf("oldest bucket = (%v, %v], want (%v, %v]", got[0].Start, got[0].End, tt.first[0], tt.first[1])
			}
			last := got[len(got)-1]
			if !last.End.Equal(statsT0) {
				t.Errorf("newest bucket ends %v, want %v", last.End, statsT0)
			}
			for i := 1; i < len(got); i++ {
				if !got[i].Start.Equal(got[i-1].End) {
					t.Errorf("bucket %d starts %v, previous ends %v", i, got[i].Start, got[i-1].End)
				}
				if w := got[i].End.Sub(got[i].Start); w != tt.width {
					t.Errorf("bucket %d is %v wide, want %v", i, w, tt.width)
				}
			}
		})
	}
}

func TestBucketizeBadWindow(t *testing.T) {
	tests := []struct {
		name string
		win  Window
	}{
		{"bucket over an hour", Window{From: statsAt(-24 * time.Hour), To: statsT0, Bucket: 61 * time.Minute}},
		{"negative bucket", Window{From: statsAt(-time.Hour), To: statsT0, Bucket: -time.Second}},
		{"To before From", Window{From: statsT0, To: statsAt(-time.Minute), Bucket: time.Second}},
		{"empty window", Window{From: statsT0, To: statsT0, Bucket: time.Second}},
		{"too many buckets", Window{From: statsAt(-24 * time.Hour), To: statsT0, Bucket: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Bucketize(nil, tt.win)
			if !errors.Is(err, ErrWindow) {
				t.Errorf("Bucketize(%+v) = %d buckets, %v; want ErrWindow", tt.win, len(got), err)
			}
			if err := WritePNG(&bytes.Buffer{}, Items, nil, tt.win); !errors.Is(err, ErrWindow) {
				t.Errorf("WritePNG(%+v) = %v, want ErrWindow", tt.win, err)
			}
		})
	}
}

func TestStatsRates(t *testing.T) {
	tests := []struct {
		name            string
		b               Bucket
		hit, miss, rps  float64
		wantNaNRates    bool
		wantLookupCount int64
	}{
		{
			name: "no lookups",
			b:    Bucket{Start: statsAt(-30 * time.Second), End: statsT0, Points: 6},
			rps:  0, wantNaNRates: true,
		},
		{
			name: "three quarters hits",
			b:    Bucket{Start: statsAt(-30 * time.Second), End: statsT0, Points: 6, Requests: 60, Hits: 45, Misses: 15},
			hit:  0.75, miss: 0.25, rps: 2, wantLookupCount: 60,
		},
		{
			name: "all misses",
			b:    Bucket{Start: statsAt(-10 * time.Second), End: statsT0, Points: 2, Requests: 5, Misses: 5},
			hit:  0, miss: 1, rps: 0.5, wantLookupCount: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.Lookups(); got != tt.wantLookupCount {
				t.Errorf("Lookups() = %d, want %d", got, tt.wantLookupCount)
			}
			if got := tt.b.RequestsPerSecond(); got != tt.rps {
				t.Errorf("RequestsPerSecond() = %v, want %v", got, tt.rps)
			}
			hit, miss := tt.b.HitRate(), tt.b.MissRate()
			if tt.wantNaNRates {
				if !math.IsNaN(hit) || !math.IsNaN(miss) {
					t.Errorf("HitRate(), MissRate() = %v, %v, want NaN, NaN", hit, miss)
				}
				return
			}
			if hit != tt.hit || miss != tt.miss {
				t.Errorf("HitRate(), MissRate() = %v, %v, want %v, %v", hit, miss, tt.hit, tt.miss)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	s := time.Second
	tests := []struct {
		name   string
		points []Point
		want   Summary
	}{
		{
			name: "no points",
			want: Summary{Span: time.Minute},
		},
		{
			name: "newest gauges, last minute's counts",
			points: []Point{
				{At: statsAt(-90 * s), Items: 1, Bytes: 10, Requests: 100, Hits: 100},
				{At: statsAt(-60 * s), Items: 2, Bytes: 20, Requests: 100, Hits: 100}, // on the edge: out
				{At: statsAt(-5 * s), Items: 4, Bytes: 40, Requests: 8, Hits: 6, Misses: 2},
				{At: statsAt(-30 * s), Items: 3, Bytes: 30, Requests: 4, Hits: 1, Misses: 3},
				{At: statsAt(5 * s), Items: 9, Bytes: 90, Requests: 50, Hits: 50}, // future: ignored
			},
			want: Summary{At: statsAt(-5 * s), Items: 4, Bytes: 40, Span: time.Minute, Requests: 12, Hits: 7, Misses: 5},
		},
		{
			name:   "stale newest point still gives the gauges",
			points: []Point{{At: statsAt(-time.Hour), Items: 3, Bytes: 30, Requests: 9, Hits: 9}},
			want:   Summary{At: statsAt(-time.Hour), Items: 3, Bytes: 30, Span: time.Minute},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.points, statsT0)
			if got != tt.want {
				t.Errorf("Summarize() = %+v, want %+v", got, tt.want)
			}
		})
	}
	got := Summarize([]Point{{At: statsAt(-time.Second), Requests: 120, Hits: 30, Misses: 90}}, statsT0)
	if got.HitRate() != 0.25 || got.MissRate() != 0.75 || got.RequestsPerSecond() != 2 {
		t.Errorf("HitRate, MissRate, RequestsPerSecond = %v, %v, %v, want 0.25, 0.75, 2",
			got.HitRate(), got.MissRate(), got.RequestsPerSecond())
	}
	if r := Summarize(nil, statsT0).HitRate(); !math.IsNaN(r) {
		t.Errorf("HitRate() with no lookups = %v, want NaN", r)
	}
}

// statsSample returns a realistic ten minutes of 5-second rows ending at
// statsT0: the cache fills, a two-minute outage leaves no rows, the service
// restarts empty, and the last minute has rows but no lookups.
func statsSample() []Point {
	var pts []Point
	items, size := int64(0), int64(0)
	for i := 119; i >= 0; i-- {
		at := statsAt(-time.Duration(i) * 5 * time.Second)
		switch {
		case i >= 60 && i < 84: // minutes -7 to -5: down, no rows
			continue
		case i == 59: // first row after the restart
			items, size = 0, 0
		}
		req := int64(20 + (i*7)%13)
		if i < 12 {
			req = 0
		}
		hits := req * int64(40+i%50) / 100
		items += req / 10
		size += req / 10 * 48 << 10
		pts = append(pts, Point{At: at, Items: items, Bytes: size, Requests: req, Hits: hits, Misses: req - hits})
	}
	return pts
}

// statsFormatBuckets is the golden form of a bucketized series.
func statsFormatBuckets(bs []Bucket) string {
	rate := func(r float64) string {
		if math.IsNaN(r) {
			return "-"
		}
		return fmt.Sprintf("%.4f", r)
	}
	var sb strings.Builder
	sb.WriteString("# start end points items bytes requests hits misses req/s hit-rate miss-rate\n")
	for _, b := range bs {
		fmt.Fprintf(&sb, "%s %s %d %d %d %d %d %d %.3f %s %s\n",
			b.Start.UTC().Format("15:04:05"), b.End.UTC().Format("15:04:05"),
			b.Points, b.Items, b.Bytes, b.Requests, b.Hits, b.Misses,
			b.RequestsPerSecond(), rate(b.HitRate()), rate(b.MissRate()))
	}
	return sb.String()
}

func TestBucketizeGolden(t *testing.T) {
	tests := []struct {
		name string
		win  Window
	}{
		{"30s", LastWindow(statsT0)},
		{"1m", Window{From: statsAt(-10 * time.Minute), To: statsT0, Bucket: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := Bucketize(statsSample(), tt.win)
			if err != nil {
				t.Fatalf("Bucketize: %v", err)
			}
			got := statsFormatBuckets(bs)
			path := filepath.Join("testdata", "stats_buckets_"+tt.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestBucketizeGolden -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Bucketize series differs from %s (rerun with -update if intended):\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// statsCountColor counts the pixels of img that are exactly c.
func statsCountColor(img image.Image, c color.RGBA) int {
	n := 0
	r0, g0, b0, a0 := c.RGBA()
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, a := img.At(x, y).RGBA()
			if r == r0 && g == g0 && b == b0 && a == a0 {
				n++
			}
		}
	}
	return n
}

func TestWriteStatsPNG(t *testing.T) {
	win := LastWindow(statsT0)
	noLookups := []Point{{At: statsAt(-time.Minute), Items: 3, Bytes: 3 << 20}, {At: statsAt(-time.Second), Items: 3, Bytes: 3 << 20}}
	single := []Point{{At: statsAt(-time.Second), Items: 3, Bytes: 3 << 20, Requests: 10, Hits: 5, Misses: 5}}
	data := []struct {
		name   string
		points []Point
		drawn  func(Chart) bool // whether a series line is expected
	}{
		{"empty", nil, func(Chart) bool { return false }},
		{"sample", statsSample(), func(Chart) bool { return true }},
		{"single point", single, func(Chart) bool { return true }},
		{"no lookups", noLookups, func(c Chart) bool { return c != HitRate && c != MissRate }},
	}
	for _, c := range Charts() {
		for _, d := range data {
			t.Run(c.Slug()+"/"+d.name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := WritePNG(&buf, c, d.points, win); err != nil {
					t.Fatalf("WritePNG: %v", err)
				}
				cfg, format, err := image.DecodeConfig(bytes.NewReader(buf.Bytes()))
				if err != nil {
					t.Fatalf("DecodeConfig: %v", err)
				}
				if format != "png" || cfg.Width != 480 || cfg.Height != 300 {
					t.Errorf("chart is %s %dx%d, want png 480x300", format, cfg.Width, cfg.Height)
				}
				img, err := png.Decode(&buf)
				if err != nil {
					t.Fatalf("png.Decode: %v", err)
				}
				in, _ := c.info()
				n := statsCountColor(img, in.color)
				if want := d.drawn(c); (n > 0) != want {
					t.Errorf("%d pixels in the series colour, want a drawn series: %v", n, want)
				}
			})
		}
	}
}

func TestWriteStatsPNGUnknownChart(t *testing.T) {
	err := WritePNG(&bytes.Buffer{}, Chart(-1), nil, LastWindow(statsT0))
	if !errors.Is(err, ErrUnknownChart) {
		t.Errorf("WritePNG(Chart(-1)) = %v, want ErrUnknownChart", err)
	}
}

func TestStatsClockTicks(t *testing.T) {
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"ten minutes", statsAt(-10 * time.Minute), statsT0, []string{"11:50", "11:52", "11:54", "11:56", "11:58", "12:00"}},
		{"one minute", statsAt(-time.Minute), statsT0, []string{"11:59:00", "11:59:10", "11:59:20", "11:59:30", "11:59:40", "11:59:50", "12:00:00"}},
		{"off-round window", statsAt(-10*time.Minute - 17*time.Second), statsAt(-17 * time.Second), []string{"11:50", "11:52", "11:54", "11:56", "11:58"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tick := range (statsClockTicks{}).Ticks(statsUnix(tt.from), statsUnix(tt.to)) {
				if !tick.IsMinor() {
					got = append(got, tick.Label)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ticks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStatsCountTicks(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi float64
		want   string
	}{
		{"empty cache", 0, 5, "0 1 2 3 4 5"},
		{"eleven items", 0, 12.1, "0 5 10"},
		{"a few dozen", 0, 44, "0 10 20 30 40"},
		{"thousands", 0, 2883.2, "0 1000 2000"},
		{"not from zero", 3, 9, "4 6 8"},
		{"infinite", 0, math.Inf(1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tick := range (statsCountTicks{}).Ticks(tt.lo, tt.hi) {
				got = append(got, tick.Label)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("Ticks(%v, %v) = %q, want %q", tt.lo, tt.hi, g, tt.want)
			}
		})
	}
}

// BenchmarkWriteStatsPNG measures one chart of a full ten-minute window, the
// cost the statistics page pays per image.
func BenchmarkWriteStatsPNG(b *testing.B) {
	pts := statsSample()
	win := LastWindow(statsT0)
	for _, c := range Charts() {
		b.Run(c.Slug(), func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := WritePNG(&buf, c, pts, win); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "png-bytes")
		})
	}
}

// BenchmarkBucketize measures folding 24 hours of 5-second rows (the whole
// retention) into the page's window.
func BenchmarkBucketize(b *testing.B) {
	var pts []Point
	for i := range 24 * 60 * 12 {
		pts = append(pts, Point{At: statsAt(-time.Duration(i) * 5 * time.Second), Items: int64(i), Requests: 10, Hits: 7, Misses: 3})
	}
	win := LastWindow(statsT0)
	for b.Loop() {
		if _, err := Bucketize(pts, win); err != nil {
			b.Fatal(err)
		}
	}
}

// Every chart starts from reports.NewPlot, so all its text is in the shared typeface.
func TestChartUsesSans(t *testing.T) {
	buckets, err := Bucketize(statsSample(), LastWindow(statsT0))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plotChart(Items, buckets, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]font.Font{"title": p.Title.TextStyle.Font, "x ticks": p.X.Tick.Label.Font,
		"y label": p.Y.Label.TextStyle.Font, "y ticks": p.Y.Tick.Label.Font} {
		if f.Variant != reports.Sans {
			t.Errorf("%s font variant = %q, want %q", name, f.Variant, reports.Sans)
		}
	}
}

func TestWriteSeriesPNG(t *testing.T) {
	t0 := statsT0
	var pts []SeriesPoint
	for i := range 30 {
		pts = append(pts, SeriesPoint{At: t0.Add(time.Duration(i-29) * time.Minute), Value: float64(1 + i/10), OK: i != 12})
	}
	for _, s := range []Series{
		{Title: "Active nodes", YLabel: "nodes", Step: time.Minute, Points: pts, Whole: true, MaxAtLeast: 8},
		{Title: "Miss rate", YLabel: "%", Step: time.Minute, Points: []SeriesPoint{{At: t0, Value: 0.4, OK: true}}, Percent: true},
		{Title: "Empty", YLabel: "nodes", Step: time.Minute},
	} {
		t.Run(s.Title, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSeriesPNG(&b, s); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&b)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := img.Bounds().Dx(), int(math.Round(float64(Width/vg.Inch*96))); got != want {
				t.Errorf("width %d px, want %d", got, want)
			}
		})
	}
}
