package web

import (
	"errors"
	"testing"
	"time"

	"imgcache/app"

	"github.com/valyala/fasthttp"
)

func TestParseStatsQuery(t *testing.T) {
	tests := []struct {
		query     string
		window    string
		noRefresh bool
		err       error
	}{
		{"", "10m", false, nil},
		{"window=10m", "10m", false, nil},
		{"window=1h", "1h", false, nil},
		{"window=24h", "24h", false, nil},
		{"window=1h&refresh=off", "1h", true, nil},
		{"refresh=on", "10m", false, nil},
		{"other=1", "10m", false, nil},
		{"window=", "", false, app.ErrInvalid},
		{"window=10M", "", false, app.ErrInvalid},
		{"window=60m", "", false, app.ErrInvalid},
		{"window=%3Cb%3E", "", false, app.ErrInvalid},
		{"refresh=", "", false, app.ErrInvalid},
		{"refresh=0", "", false, app.ErrInvalid},
		{"node=3&window=1h", "1h", false, nil},
		{"node=0", "10m", false, nil},
		{"node=x", "", false, app.ErrInvalid},
		{"node=-1", "", false, app.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var args fasthttp.Args
			args.Parse(tt.query)
			q, err := parseStatsQuery(&args)
			if !errors.Is(err, tt.err) {
				t.Fatalf("parseStatsQuery(%q) error = %v, want %v", tt.query, err, tt.err)
			}
			if err != nil {
				return
			}
			if q.Window.Param != tt.window || q.NoRefresh != tt.noRefresh {
				t.Errorf("parseStatsQuery(%q) = window %s, no refresh %v; want %s, %v", tt.query, q.Window.Param, q.NoRefresh, tt.window, tt.noRefresh)
			}
		})
	}
}

// TestStatsWindows: every window has 20 to 60 buckets, a whole number of 5-second rows in each, and
// the 10-minute window keeps the page's promise of buckets of a minute or finer.
func TestStatsWindows(t *testing.T) {
	for _, w := range statsWindows {
		t.Run(w.Param, func(t *testing.T) {
			if n := w.Span / w.Bucket; n < 20 || n > 60 || w.Span%w.Bucket != 0 {
				t.Errorf("%v in buckets of %v: %d points, want 20 to 60 whole buckets", w.Span, w.Bucket, n)
			}
			if w.Bucket%(5*time.Second) != 0 {
				t.Errorf("bucket %v is not a whole number of 5-second rows", w.Bucket)
			}
			if w.Span <= 10*time.Minute && w.Bucket > time.Minute {
				t.Errorf("bucket %v over a minute for a %v window", w.Bucket, w.Span)
			}
			if w.Refresh < 5*time.Second || w.Refresh > w.Span/10 {
				t.Errorf("refresh every %v: want between the 5-second row interval and a tenth of the window", w.Refresh)
			}
		})
	}
	if statsWindows[0].Param != "10m" {
		t.Errorf("default window = %s, want 10m", statsWindows[0].Param)
	}
}
