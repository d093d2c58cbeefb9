// Package web is the imgcache backend's HTML pages: home, view, upload, keys, cache properties,
// statistics, the memcache pool and the benchmark reports, with their templates and assets, over the
// domain of package app.
package web

import (
	"log/slog"
	"net/http"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/app/api"
	"imgcache/app/web/runs"
	"imgcache/memcache/route"
)

// Paths of the pages and their assets.
const (
	pathHome        = "/"
	pathImage       = "/image"
	pathUpload      = "/upload_image"
	pathKeys        = "/keys_list"
	pathDeleteKey   = "/keys_list/delete"
	pathDeleteAll   = "/keys_list/delete_all"
	pathThumb       = "/thumb/" // followed by the key, path-escaped
	pathProperties  = api.PathCacheProperties
	pathClear       = api.PathClearCache
	pathStats       = "/cache_stats"
	pathStatsCSV    = "/cache_stats.csv"
	pathPool        = "/pool"
	pathPoolNode    = api.PathPoolNode
	pathPoolScaler  = "/pool/autoscaler"
	poolChartPrefix = "/pool/chart/"
	chartPrefix     = "/cache_stats/chart/"
	pathReports     = "/reports"
	pathReportRun   = "/reports/run/" // followed by a run's ID, then optionally "/" and one of its files
	pathCompare     = "/reports/compare"
	staticPrefix    = "/static/"
)

// Server is the pages of one backend: the backend's domain, what it runs over, and the parsed templates.
type Server struct {
	*app.Server
	cfg     app.Config
	log     *slog.Logger
	cache   app.Cache
	store   app.Store
	objects app.Objects
	pool    app.Pool
	poolDB  app.PoolStore

	pages  *pageSet      // parsed templates and static files
	routes []route.Route // the pages' routes; those with a Nav label make the navigation bar

	sampleDirs []string     // where the benchmark sample may be, in order
	runSums    runSummaries // summaries of the runs' results.json, while each file is unchanged
}

var _ app.Pages = (*Server)(nil)

// New builds the pages over a backend; set it as app.Config.Pages.
func New(a *app.Server) app.Pages {
	p := a.Parts()
	s := &Server{Server: a, cfg: p.Config, log: p.Log, cache: p.Cache, store: p.Store, objects: p.Objects, pool: p.Pool, poolDB: p.PoolDB,
		pages: mustParsePages(), sampleDirs: runs.SampleCandidates(p.Config.ReportSample)}
	s.routes = s.routeTable()
	return s
}

// Routes are the pages' routes, in the order of the navigation bar.
func (s *Server) Routes() []route.Route { return s.routes }

// Error answers err as an error page (a failed upload keeps its form).
func (s *Server) Error(rc *fasthttp.RequestCtx, err error) { s.pageError(rc, err) }

func (s *Server) routeTable() []route.Route {
	get, post, getPost := []string{http.MethodGet}, []string{http.MethodPost}, []string{http.MethodGet, http.MethodPost}
	return []route.Route{
		{Path: pathHome, Methods: get, Nav: "Home", Handle: s.pageHome},
		{Path: pathImage, Methods: getPost, Nav: "View image", Handle: s.pageImage},
		{Path: pathUpload, Methods: getPost, Nav: "Upload", Handle: s.pageUpload},
		{Path: pathKeys, Methods: get, Nav: "Keys", Handle: s.pageKeys},
		{Path: pathDeleteKey, Methods: getPost, Handle: s.pageDeleteKey},
		{Path: pathDeleteAll, Methods: getPost, Handle: s.pageDeleteAll},
		// Matched on the original path, as the API's key routes are.
		{Path: pathThumb, Prefix: true, Original: true, Methods: get, Handle: s.serveThumb},
		{Path: pathProperties, Methods: getPost, Nav: "Cache properties", Handle: s.pageProperties},
		{Path: pathClear, Methods: getPost, Handle: s.pageClear},
		{Path: pathStats, Methods: get, Nav: "Cache statistics", Handle: s.pageStats},
		{Path: pathStatsCSV, Methods: get, Handle: s.statsCSV},
		{Path: pathPool, Methods: get, Nav: "Memcache pool", Handle: s.pagePool},
		{Path: pathPoolNode, Methods: post, Handle: s.setNodeState},
		{Path: pathPoolScaler, Methods: post, Handle: s.setAutoscale},
		{Path: poolChartPrefix, Prefix: true, Methods: get, Handle: s.pagePoolChart},
		{Path: pathReports, Methods: get, Nav: "Benchmarks", Handle: s.pageReports},
		{Path: pathCompare, Methods: get, Handle: s.pageReportCompare},
		// Matched on the cleaned path: its tail only selects among names the server listed itself.
		{Path: pathReportRun, Prefix: true, Methods: get, Handle: s.pageReportRun},
		{Path: chartPrefix, Prefix: true, Methods: get, Handle: s.pageChart},
		{Path: staticPrefix, Prefix: true, Methods: get, Handle: s.serveStatic},
	}
}

// navItem is one link of the navigation bar.
type navItem struct{ Path, Label string }

// navBar is the navigation bar every page shares, from the route table.
func (s *Server) navBar() []navItem {
	var items []navItem
	for _, r := range s.routes {
		if r.Nav != "" {
			items = append(items, navItem{r.Path, r.Nav})
		}
	}
	return items
}

// errorf builds an *app.Error of kind with a formatted message.
func errorf(kind error, format string, args ...any) *app.Error {
	return app.Errorf(kind, format, args...)
}
