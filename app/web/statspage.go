package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"gonum.org/v1/plot/vg"

	"imgcache/app"
	"imgcache/database"
	"imgcache/memcache/wire"
	"imgcache/reports/statschart"
)

// chartDPI is the resolution statschart draws PNGs at, for the <img> size on the statistics page.
const chartDPI = 96

// pageCharts are the statistics page's charts, in a grid. The miss rate is 100% minus the hit rate,
// so one chart shows both; /cache_stats/chart/miss-rate.png is still served.
var pageCharts = []statschart.Chart{statschart.Items, statschart.Bytes, statschart.Requests, statschart.HitRate}

// figure is one labelled number of the statistics page.
type figure struct{ Label, Value string }

// chartRef is one chart of the statistics page.
type chartRef struct {
	URL           string
	Alt           string // what the chart shows and its current value, for those who cannot see it
	Width, Height int
}

// windowLink is one choice of window on the statistics page.
type windowLink struct {
	Label, URL string
	Current    bool
}

type statsPage struct {
	chrome
	HasData       bool
	Rows          int
	Newest        time.Time
	Recent        []figure // from the cache_stats rows
	Live          []figure // from the memcache's /stats, when it answers
	LiveOK        bool
	Charts        []chartRef
	Span          string // "10 minutes"
	Bucket        string // "15 seconds"
	Windows       []windowLink
	RefreshEvery  string       // "15 seconds"; "" when the page does not reload itself
	RefreshToggle string       // the same page with reloading turned the other way
	CSV           string       // the window's rows as CSV
	Nodes         []windowLink // the whole pool and each node, when the pool has more than one
	NodeLabel     string       // what the figures cover: "the whole pool" or "node 3"
}

// statsPoints reads the rows of the span ending at now: those of one node, or the pool's summed.
func (s *Server) statsPoints(ctx context.Context, now time.Time, span time.Duration, node int64) ([]statschart.Point, error) {
	rows, err := s.store.StatsSince(ctx, now.Add(-span))
	if err != nil {
		return nil, s.DBError("read cache statistics", err)
	}
	if node != 0 {
		rows = nodeRows(rows, node)
	}
	return poolPoints(rows), nil
}

// liveFor is liveStats of the whole cache, or of one node of the pool.
func (s *Server) liveFor(ctx context.Context, node int64) (wire.Stats, bool) {
	if node != 0 {
		return s.nodeLiveStats(ctx, node)
	}
	return s.LiveStats(ctx)
}

// nodeLiveStats asks one node of the pool for its figures, briefly; ok is false when it is not routed
// to or did not answer.
func (s *Server) nodeLiveStats(ctx context.Context, node int64) (wire.Stats, bool) {
	if s.pool == nil {
		return wire.Stats{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, app.LiveStatsTimeout)
	defer cancel()
	stats, err := s.pool.NodeStats(ctx)
	if err != nil {
		return wire.Stats{}, false
	}
	for _, st := range stats {
		if st.Member.ID == node && st.Err == nil {
			return st.Stats, true
		}
	}
	return wire.Stats{}, false
}

// capacity is the cache's capacity in bytes, for the size chart's line: as the memcache reports it
// when it answers, else as the newest cache_properties row sets it; ok is false when neither is known.
func (s *Server) capacity(ctx context.Context, live wire.Stats, liveOK bool) (int64, bool) {
	if liveOK {
		return live.Capacity, true
	}
	p, err := s.store.LatestCacheProperties(ctx)
	if err != nil {
		if !errors.Is(err, database.ErrNotFound) {
			s.NoteDBError() // the chart goes without the line rather than fail
		}
		return 0, false
	}
	return int64(p.MaxCapacityMB) << 20, true
}

func chartPixels(l vg.Length) int { return int(math.Round(float64(l / vg.Inch * chartDPI))) }

func (s *Server) pageStats(ctx context.Context, rc *fasthttp.RequestCtx) error {
	q, err := parseStatsQuery(rc.QueryArgs())
	if err != nil {
		return err
	}
	now := time.Now()
	points, err := s.statsPoints(ctx, now, q.Window.Span, q.Node)
	if err != nil {
		return err
	}
	p := &statsPage{chrome: chrome{Title: "Cache statistics", Active: pathStats},
		HasData: len(points) > 0, Rows: len(points), Span: q.Window.Label, Bucket: durationText(q.Window.Bucket),
		CSV: q.url(pathStatsCSV)}
	for _, w := range statsWindows {
		wq := q
		wq.Window = w
		p.Windows = append(p.Windows, windowLink{Label: w.Label, URL: wq.url(pathStats), Current: w == q.Window})
	}
	p.NodeLabel = "the whole pool"
	if q.Node != 0 {
		p.NodeLabel = "node " + strconv.FormatInt(q.Node, 10)
	}
	if s.poolDB != nil {
		if nodes, err := s.poolDB.Nodes(ctx); err == nil && (len(nodes) > 1 || q.Node != 0) {
			all := q
			all.Node = 0
			p.Nodes = append(p.Nodes, windowLink{Label: "Whole pool", URL: all.url(pathStats), Current: q.Node == 0})
			for _, n := range nodes {
				nq := q
				nq.Node = n.ID
				p.Nodes = append(p.Nodes, windowLink{Label: "Node " + strconv.FormatInt(n.ID, 10), URL: nq.url(pathStats), Current: q.Node == n.ID})
			}
		}
	}
	toggle := q
	toggle.NoRefresh = !q.NoRefresh
	p.RefreshToggle = toggle.url(pathStats)
	if !q.NoRefresh {
		p.Refresh = int(q.Window.Refresh / time.Second)
		p.RefreshEvery = durationText(q.Window.Refresh)
	}
	sum := statschart.Summarize(points, now)
	p.Newest = sum.At
	if p.HasData {
		mins := durationText(sum.Span)
		if sum.Span == time.Minute {
			mins = "minute"
		}
		p.Recent = []figure{
			{"Items in the cache", strconv.FormatInt(sum.Items, 10)},
			{"Total size of the items", app.HumanSize(sum.Bytes)},
			{"Requests served in the last " + mins, fmt.Sprintf("%d (%.2f per second)", sum.Requests, sum.RequestsPerSecond())},
			{"Hit rate in the last " + mins, percent(sum.HitRate(), "no lookups")},
			{"Miss rate in the last " + mins, percent(sum.MissRate(), "no lookups")},
		}
	}
	live, ok := s.liveFor(ctx, q.Node)
	p.LiveOK = ok
	if ok {
		p.Live = []figure{
			{"Items in the cache", strconv.Itoa(live.Items)},
			{"Total size of the items", app.HumanSize(live.Bytes)},
			{"Capacity", capacityText(live.CapacityMB)},
			{"Replacement policy", live.Policy},
			{"Lookups since the cache started", strconv.FormatUint(live.Gets, 10)},
			{"Hits / misses", fmt.Sprintf("%d / %d", live.Hits, live.Misses)},
			{"Hit rate since the cache started", rate(live.Hits, live.Gets, "no lookups yet")},
			{"Miss rate since the cache started", rate(live.Misses, live.Gets, "no lookups yet")},
			{"Evictions", strconv.FormatUint(live.Evictions, 10)},
		}
	}
	buckets, err := statschart.Bucketize(points, q.Window.chartWindow(now))
	if err != nil {
		return fmt.Errorf("statistics window %s: %w", q.Window.Param, err) // the window table is wrong: a 500
	}
	capBytes, capOK := s.capacity(ctx, live, ok)
	for _, c := range pageCharts {
		p.Charts = append(p.Charts, chartRef{URL: q.url(chartPrefix + c.Slug() + ".png"),
			Alt:   chartAlt(c, buckets, q.Window.Label, capBytes, capOK),
			Width: chartPixels(statschart.Width), Height: chartPixels(statschart.Height)})
	}
	s.render(rc, http.StatusOK, "stats", p)
	return nil
}

// chartAlt describes chart c over the window span and gives its current value, as the chart's alt
// text: a screen reader, or a browser that shows no images, gets what a glance at the chart gives.
func chartAlt(c statschart.Chart, buckets []statschart.Bucket, span string, capBytes int64, capOK bool) string {
	v, ok := c.Latest(buckets)
	none := "no data in this window"
	var what, now string
	switch c {
	case statschart.Items:
		what, now = "items in the cache", "now "+strconv.FormatFloat(v, 'f', 0, 64)
	case statschart.Bytes:
		what, now = "total size of the cached items", "now "+app.HumanSize(int64(math.Round(v*(1<<20))))
		if capOK {
			now += ", of a capacity of " + app.HumanSize(capBytes) + " (the dashed line)"
			if capBytes == 0 {
				now = "now " + app.HumanSize(int64(math.Round(v*(1<<20)))) + "; the capacity is 0: caching is off"
			}
		}
	case statschart.Requests:
		what, now = "requests served per second", fmt.Sprintf("latest %.2f per second", v)
	case statschart.HitRate, statschart.MissRate:
		what, none = "hit rate (hits over lookups)", "no lookups in this window"
		hit := v
		if c == statschart.MissRate {
			what, hit = "miss rate (misses over lookups)", 100-v
		}
		now = fmt.Sprintf("latest %.1f%% hits, %.1f%% misses", hit, 100-hit)
	}
	if !ok {
		now = none
	}
	return fmt.Sprintf("Chart of the %s over the last %s; %s.", what, span, now)
}

// pageChart draws one chart of the statistics page as a PNG of the window the query asks for.
func (s *Server) pageChart(ctx context.Context, rc *fasthttp.RequestCtx) error {
	name := strings.TrimPrefix(string(rc.Path()), chartPrefix)
	slug, isPNG := strings.CutSuffix(name, ".png")
	c, err := statschart.ParseChart(slug)
	if !isPNG || err != nil {
		return errorf(app.ErrNotFound, "There is no chart %q.", name)
	}
	q, err := parseStatsQuery(rc.QueryArgs())
	if err != nil {
		return err
	}
	now := time.Now()
	points, err := s.statsPoints(ctx, now, q.Window.Span, q.Node)
	if err != nil {
		return err
	}
	var opts statschart.Options
	if c == statschart.Bytes {
		live, ok := s.liveFor(ctx, q.Node)
		opts.Capacity, opts.HasCapacity = s.capacity(ctx, live, ok)
	}
	var buf bytes.Buffer
	if err := statschart.Draw(&buf, c, points, q.Window.chartWindow(now), opts); err != nil {
		return fmt.Errorf("draw chart %s of %s: %w", slug, q.Window.Param, err) // no input of the client's: a 500
	}
	rc.SetContentType("image/png")
	rc.Response.Header.Set("Cache-Control", "no-store")
	rc.Response.Header.Set("X-Content-Type-Options", "nosniff")
	rc.SetBody(buf.Bytes())
	return nil
}
