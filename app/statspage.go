package app

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"gonum.org/v1/plot/vg"

	"imgcache/reports/statschart"
)

// chartDPI is the resolution statschart draws PNGs at, for the <img> size on the statistics page.
const chartDPI = 96

// figure is one labelled number of the statistics page.
type figure struct{ Label, Value string }

// chartRef is one chart of the statistics page.
type chartRef struct {
	Title, URL    string
	Width, Height int
}

type statsPage struct {
	chrome
	HasData bool
	Rows    int
	Newest  time.Time
	Recent  []figure // from the cache_stats rows
	Live    []figure // from the memcache's /stats, when it answers
	LiveOK  bool
	Charts  []chartRef
	Span    string // "10 minutes"
	Bucket  string // "30 seconds"
}

// statsPoints reads the rows of the window ending at now.
func (s *Server) statsPoints(ctx context.Context, now time.Time) ([]statschart.Point, error) {
	rows, err := s.store.StatsSince(ctx, now.Add(-statschart.DefaultSpan))
	if err != nil {
		return nil, s.dbError("read cache statistics", err)
	}
	points := make([]statschart.Point, len(rows))
	for i, r := range rows {
		points[i] = statschart.Point{At: r.CreatedAt, Items: r.KeyCount, Bytes: r.CacheSize,
			Requests: r.RequestCount, Hits: r.HitCount, Misses: r.MissCount}
	}
	return points, nil
}

func chartPixels(l vg.Length) int { return int(math.Round(float64(l / vg.Inch * chartDPI))) }

func (s *Server) pageStats(ctx context.Context, rc *fasthttp.RequestCtx) error {
	now := time.Now()
	points, err := s.statsPoints(ctx, now)
	if err != nil {
		return err
	}
	win := statschart.LastWindow(now)
	p := &statsPage{chrome: chrome{Title: "Cache statistics", Active: pathStats},
		HasData: len(points) > 0, Rows: len(points), Span: durationText(win.To.Sub(win.From)), Bucket: durationText(win.Bucket)}
	sum := statschart.Summarize(points, now)
	p.Newest = sum.At
	if p.HasData {
		mins := durationText(sum.Span)
		if sum.Span == time.Minute {
			mins = "minute"
		}
		p.Recent = []figure{
			{"Items in the cache", strconv.FormatInt(sum.Items, 10)},
			{"Total size of the items", humanSize(sum.Bytes)},
			{"Requests served in the last " + mins, fmt.Sprintf("%d (%.2f per second)", sum.Requests, sum.RequestsPerSecond())},
			{"Hit rate in the last " + mins, percent(sum.HitRate(), "no lookups")},
			{"Miss rate in the last " + mins, percent(sum.MissRate(), "no lookups")},
		}
	}
	live, ok := s.liveStats(ctx)
	p.LiveOK = ok
	if ok {
		p.Live = []figure{
			{"Items in the cache", strconv.Itoa(live.Items)},
			{"Total size of the items", humanSize(live.Bytes)},
			{"Capacity", capacityText(live.CapacityMB)},
			{"Replacement policy", live.Policy},
			{"Lookups since the cache started", strconv.FormatUint(live.Gets, 10)},
			{"Hits / misses", fmt.Sprintf("%d / %d", live.Hits, live.Misses)},
			{"Hit rate since the cache started", rate(live.Hits, live.Gets, "no lookups yet")},
			{"Miss rate since the cache started", rate(live.Misses, live.Gets, "no lookups yet")},
			{"Evictions", strconv.FormatUint(live.Evictions, 10)},
		}
	}
	for _, c := range statschart.Charts() {
		p.Charts = append(p.Charts, chartRef{Title: c.String(), URL: chartPrefix + c.Slug() + ".png",
			Width: chartPixels(statschart.Width), Height: chartPixels(statschart.Height)})
	}
	s.render(rc, http.StatusOK, "stats", p)
	return nil
}

// pageChart draws one chart of the statistics page as a PNG of the last 10 minutes.
func (s *Server) pageChart(ctx context.Context, rc *fasthttp.RequestCtx) error {
	name := strings.TrimPrefix(string(rc.Path()), chartPrefix)
	slug, isPNG := strings.CutSuffix(name, ".png")
	c, err := statschart.ParseChart(slug)
	if !isPNG || err != nil {
		return errorf(ErrNotFound, "There is no chart %q.", name)
	}
	now := time.Now()
	points, err := s.statsPoints(ctx, now)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := statschart.WritePNG(&buf, c, points, statschart.LastWindow(now)); err != nil {
		return err
	}
	rc.SetContentType("image/png")
	rc.Response.Header.Set("Cache-Control", "no-store")
	rc.Response.Header.Set("X-Content-Type-Options", "nosniff")
	rc.SetBody(buf.Bytes())
	return nil
}
