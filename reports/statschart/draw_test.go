package statschart

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"
)

// TestPageWindows: the statistics page's windows are valid, with 20 to 60 buckets each, and the
// limits refuse what is past them.
func TestPageWindows(t *testing.T) {
	tests := []struct {
		name   string
		span   time.Duration
		bucket time.Duration
		ok     bool
	}{
		{"10 minutes in 15 s", 10 * time.Minute, 15 * time.Second, true},
		{"1 hour in 2 min", time.Hour, 2 * time.Minute, true},
		{"24 hours in 30 min", 24 * time.Hour, 30 * time.Minute, true},
		{"24 hours in 1 hour", 24 * time.Hour, MaxBucket, true},
		{"bucket over MaxBucket", 24 * time.Hour, MaxBucket + time.Second, false},
		{"24 hours in 10 s: over MaxBuckets", 24 * time.Hour, 10 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := Bucketize(nil, Window{From: statsAt(-tt.span), To: statsT0, Bucket: tt.bucket})
			if (err == nil) != tt.ok {
				t.Fatalf("Bucketize: %d buckets, %v; want ok %v", len(bs), err, tt.ok)
			}
		})
	}
}

func TestBucketLabel(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{15 * time.Second, "15s"},
		{90 * time.Second, "1m30s"},
		{2 * time.Minute, "2m"},
		{30 * time.Minute, "30m"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := BucketLabel(tt.d); got != tt.want {
				t.Errorf("BucketLabel(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestStatsSizeTicks(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi float64
		want   string
	}{
		{"empty cache", 0, 1, "0 0.2 0.4 0.6 0.8 1"},
		{"a few MB", 0, 3.3, "0 1 2 3"},
		{"capacity 10 MB", 0, 11, "0 2 4 6 8 10"},
		{"capacity 64 MB", 0, 70.4, "0 20 40 60"},
		{"capacity 2048 MB", 0, 2252.8, "0 500 1000 1500 2000"},
		{"a fraction", 0, 0.33, "0 0.1 0.2 0.3"},
		{"infinite", 0, math.Inf(1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tick := range (statsSizeTicks{}).Ticks(tt.lo, tt.hi) {
				got = append(got, tick.Label)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("Ticks(%v, %v) = %q, want %q", tt.lo, tt.hi, g, tt.want)
			}
		})
	}
}

// TestCapacityLine: the size chart draws the capacity as a dashed line, named in the legend, with the
// axis reaching above it; other charts and a chart without a known capacity draw none.
func TestCapacityLine(t *testing.T) {
	win := LastWindow(statsT0)
	points := []Point{{At: statsAt(-time.Minute), Items: 3, Bytes: 3 << 20}, {At: statsAt(-time.Second), Items: 3, Bytes: 3 << 20}}
	tests := []struct {
		name  string
		c     Chart
		opts  Options
		drawn bool
	}{
		{"size with capacity", Bytes, Options{Capacity: 64 << 20, HasCapacity: true}, true},
		{"size with caching off", Bytes, Options{Capacity: 0, HasCapacity: true}, true},
		{"size, capacity unknown", Bytes, Options{}, false},
		{"items ignore it", Items, Options{Capacity: 64 << 20, HasCapacity: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buckets, err := Bucketize(points, win)
			if err != nil {
				t.Fatal(err)
			}
			p, err := plotChart(tt.c, buckets, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := p.Y.Tick.Marker.(statsSizeTicks); ok != (tt.c == Bytes) {
				t.Errorf("y ticks %T, want statsSizeTicks on the size chart only", p.Y.Tick.Marker)
			}
			mb := float64(tt.opts.Capacity) / (1 << 20)
			if tt.drawn && p.Y.Max <= mb {
				t.Errorf("y axis ends at %v MB, under the %v MB capacity", p.Y.Max, mb)
			}
			var buf bytes.Buffer
			if err := Draw(&buf, tt.c, points, win, tt.opts); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if n := statsCountColor(img, capacityColor); (n > 0) != tt.drawn {
				t.Errorf("%d pixels in the capacity colour, want a line: %v", n, tt.drawn)
			}
		})
	}
}

// TestLatest: a chart's current value is that of its newest bucket with one, skipping empty buckets
// and, for rates, buckets without lookups.
func TestLatest(t *testing.T) {
	win := Window{From: statsAt(-time.Minute), To: statsT0, Bucket: 15 * time.Second}
	tests := []struct {
		name   string
		c      Chart
		points []Point
		want   float64
		ok     bool
	}{
		{"no data", Items, nil, 0, false},
		{"newest gauge", Items, []Point{{At: statsAt(-50 * time.Second), Items: 4}, {At: statsAt(-20 * time.Second), Items: 9}}, 9, true},
		{"empty newest bucket skipped", Bytes, []Point{{At: statsAt(-50 * time.Second), Bytes: 3 << 20}}, 3, true},
		{"rate skips a bucket without lookups", HitRate, []Point{
			{At: statsAt(-50 * time.Second), Requests: 4, Hits: 3, Misses: 1},
			{At: statsAt(-5 * time.Second), Items: 1}}, 75, true},
		{"requests per second", Requests, []Point{{At: statsAt(-5 * time.Second), Requests: 30}}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := Bucketize(tt.points, win)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := tt.c.Latest(bs)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Latest = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
