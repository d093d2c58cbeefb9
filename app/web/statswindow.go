package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/reports/statschart"
)

// statsWindow is one span the statistics page, its charts and its CSV can cover.
type statsWindow struct {
	Param   string        // its value of ?window=
	Label   string        // in words: "10 minutes"
	Span    time.Duration // how far back it looks
	Bucket  time.Duration // the charts' bucket width: 20 to 60 points, 5-second rows in each
	Refresh time.Duration // how often the page reloads itself
}

// statsWindows are the choices, the default first. The 10-minute window keeps the page's promise of
// buckets of a minute or finer.
var statsWindows = []statsWindow{
	{"10m", "10 minutes", 10 * time.Minute, 15 * time.Second, 15 * time.Second},
	{"1h", "1 hour", time.Hour, 2 * time.Minute, 30 * time.Second},
	{"24h", "24 hours", 24 * time.Hour, 30 * time.Minute, time.Minute},
}

// chartWindow is the window's span ending at now, in its buckets.
func (w statsWindow) chartWindow(now time.Time) statschart.Window {
	return statschart.Window{From: now.Add(-w.Span), To: now, Bucket: w.Bucket}
}

// statsQuery is what a request of the statistics page, a chart or the CSV asks for. Parameters that
// choose what the figures cover belong here, parsed by parseStatsQuery, so every view of the figures
// reads them alike.
type statsQuery struct {
	Window    statsWindow
	NoRefresh bool  // ?refresh=off: the page does not reload itself
	Node      int64 // ?node=ID: one memcache node of the pool; 0 for the pool's totals
}

// parseStatsQuery reads ?window=10m|1h|24h (default 10m) and ?refresh=off|on (default on). Anything
// else is refused, so that a mistyped window is not silently shown as another.
func parseStatsQuery(args *fasthttp.Args) (statsQuery, error) {
	q := statsQuery{Window: statsWindows[0]}
	if args.Has("window") {
		v := string(args.Peek("window"))
		found := false
		for _, w := range statsWindows {
			if w.Param == v {
				q.Window, found = w, true
			}
		}
		if !found {
			return q, errorf(app.ErrInvalid, "Unknown window %q: choose %s.", app.ShownKey(v), windowChoices())
		}
	}
	if args.Has("node") {
		v := string(args.Peek("node"))
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return q, errorf(app.ErrInvalid, "Unknown node %q: give a node's number, or leave it out for the whole pool.", app.ShownKey(v))
		}
		q.Node = n
	}
	switch v := string(args.Peek("refresh")); {
	case !args.Has("refresh"), v == "on":
	case v == "off":
		q.NoRefresh = true
	default:
		return q, errorf(app.ErrInvalid, "Unknown refresh setting %q: choose on or off.", app.ShownKey(v))
	}
	return q, nil
}

// windowChoices names the windows for a message: "10m, 1h or 24h".
func windowChoices() string {
	var names []string
	for _, w := range statsWindows {
		names = append(names, w.Param)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// values is q as URL parameters, leaving out the defaults so that the plain URL stays plain.
func (q statsQuery) values() url.Values {
	v := url.Values{}
	if q.Window.Param != statsWindows[0].Param {
		v.Set("window", q.Window.Param)
	}
	if q.NoRefresh {
		v.Set("refresh", "off")
	}
	if q.Node != 0 {
		v.Set("node", strconv.FormatInt(q.Node, 10))
	}
	return v
}

// url is path with q's parameters.
func (q statsQuery) url(path string) string {
	if v := q.values(); len(v) > 0 {
		return path + "?" + v.Encode()
	}
	return path
}
