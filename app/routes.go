package app

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"imgcache/app/api"
	"imgcache/memcache/route"
	"imgcache/memcache/wire"
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

// routeTable is the backend's one list of routes: it drives dispatch, the 405s, the metrics labels
// and the navigation bar (the routes with a Nav label, in this order).
func (s *Server) routeTable(metrics route.Handler) []route.Route {
	get, post, getPost := []string{http.MethodGet}, []string{http.MethodPost}, []string{http.MethodGet, http.MethodPost}
	return []route.Route{
		// Matched on the original path: fasthttp's cleaned one turns a key like "../x" into another path.
		{Path: api.PathKeyPrefix, Prefix: true, Original: true, Methods: getPost, Handle: s.apiKey},
		{Path: api.PathDeletePrefix, Prefix: true, Original: true, Methods: post, Handle: s.apiDelete},
		{Path: api.PathUpload, Methods: post, Handle: s.apiUpload},
		{Path: api.PathListKeys, Methods: getPost, Handle: s.apiListKeys},
		{Path: api.PathDeleteAll, Methods: post, Handle: s.apiDeleteAll},
		{Path: api.PathPool, Methods: get, Handle: s.apiPool},
		{Path: api.PathHealth, Methods: get, Handle: s.health},
		{Path: route.MetricsPath, Methods: get, Handle: metrics},

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
	for _, r := range s.routes.Routes() {
		if r.Nav != "" {
			items = append(items, navItem{r.Path, r.Nav})
		}
	}
	return items
}

// handle reads a streamed body under the limit, then dispatches.
func (s *Server) handle(rc *fasthttp.RequestCtx) {
	if err := s.limitBody(rc); err != nil {
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			err = s.bodyTooLarge()
		} else {
			err = errorf(ErrInvalid, "malformed request: %v", err)
		}
		s.answerError(rc, err)
		return
	}
	s.routes.Serve(rc)
}

// isAPI reports whether rc is answered in JSON: the API's paths, the health check and the metrics.
func isAPI(rc *fasthttp.RequestCtx) bool {
	p := string(rc.Path())
	return strings.HasPrefix(string(rc.URI().PathOriginal()), api.Prefix) || strings.HasPrefix(p, api.Prefix) ||
		p == api.PathHealth || p == route.MetricsPath
}

// answerError answers err in the contract of the request's route: the JSON envelope under /api/, an
// error page elsewhere. 5xx causes go to the log.
func (s *Server) answerError(rc *fasthttp.RequestCtx, err error) {
	if isAPI(rc) {
		if errors.Is(err, route.ErrNoRoute) {
			err = errorf(ErrNotFound, "no such endpoint %q", rc.Path())
		}
		code, msg := s.failure(rc, err)
		route.WriteJSON(rc, code, wire.NewFailure(code, msg))
		return
	}
	if errors.Is(err, route.ErrNoRoute) {
		err = errorf(ErrNotFound, "There is no page at %q.", rc.Path())
	}
	s.pageError(rc, err)
}

// healthTimeout bounds each check of /healthz: a load balancer polls it often and must not pile up
// requests on a hung dependency.
const healthTimeout = time.Second

// health reports whether the backend can serve: its database answers (else 503) and, for information,
// whether the memcache does.
func (s *Server) health(ctx context.Context, rc *fasthttp.RequestCtx) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	h := api.Health{Success: api.True, Backend: api.StateOK, Database: api.StateOK, Memcache: api.StateOK}
	dbErr := make(chan error, 1)
	go func() { dbErr <- s.store.Ping(ctx) }()
	if err := s.cache.Health(ctx); err != nil {
		h.Memcache = api.StateUnreachable
		s.noteCacheErr(err)
	}
	if err := <-dbErr; err != nil {
		s.metrics.dbErrors.Inc()
		h.Success, h.Database = "false", api.StateUnreachable
		h.Error = &wire.FailureBody{Code: http.StatusServiceUnavailable, Message: "the database does not answer"}
		route.WriteJSON(rc, http.StatusServiceUnavailable, h)
		return nil
	}
	if s.draining.Load() {
		h.Success, h.Backend = "false", api.StateDraining
		h.Error = &wire.FailureBody{Code: http.StatusServiceUnavailable, Message: "the backend is stopping: send new requests elsewhere"}
		route.WriteJSON(rc, http.StatusServiceUnavailable, h)
		return nil
	}
	route.WriteJSON(rc, http.StatusOK, h)
	return nil
}
