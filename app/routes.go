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

// routeTable is the API's list of routes; the pages' follow them (Config.Pages). The one table drives
// dispatch, the 405s and the metrics labels.
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
	}
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
	if s.pages == nil {
		if errors.Is(err, route.ErrNoRoute) {
			err = errorf(ErrNotFound, "there is no page at %q", rc.Path())
		}
		code, msg := s.failure(rc, err)
		route.WriteJSON(rc, code, wire.NewFailure(code, msg))
		return
	}
	if errors.Is(err, route.ErrNoRoute) {
		err = errorf(ErrNotFound, "There is no page at %q.", rc.Path())
	}
	s.pages.Error(rc, err)
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
		s.NoteCacheErr(err)
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
