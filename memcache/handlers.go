package memcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"imgcache/memcache/cache"
	"imgcache/memcache/route"
	"imgcache/memcache/wire"
)

// routeTable is the service's one list of routes: dispatch, the 405s and the metrics labels.
func (s *Server) routeTable(metrics route.Handler) []route.Route {
	get, post := []string{http.MethodGet}, []string{http.MethodPost}
	return []route.Route{
		{Path: wire.PathGet, Methods: post, Handle: s.get},
		{Path: wire.PathPut, Methods: post, Handle: s.put},
		{Path: wire.PathInvalidate, Methods: post, Handle: s.invalidate},
		{Path: wire.PathClear, Methods: post, Handle: s.clear},
		{Path: wire.PathRefresh, Methods: post, Handle: s.refreshConfiguration},
		{Path: wire.PathStats, Methods: get, Handle: s.statsHandler},
		{Path: wire.PathHealth, Methods: get, Handle: s.health},
		{Path: wire.PathMRC, Methods: get, Handle: s.mrcHandler},
		{Path: route.MetricsPath, Methods: get, Handle: metrics},
	}
}

// errUnavailable: the database the operation needs failed (503).
var errUnavailable = errors.New("unavailable")

// statusOf maps an error to the HTTP status and the message the caller sees: the one place where the
// service decides them. A 5xx message never carries the cause.
func statusOf(err error) (code int, message string) {
	if code, msg, ok := route.ReadErrorStatus(err); ok {
		return code, msg
	}
	code = http.StatusInternalServerError
	switch {
	case errors.Is(err, wire.ErrMalformed):
		code = http.StatusBadRequest
	case errors.Is(err, wire.ErrUnauthorized):
		code = http.StatusUnauthorized
	case errors.Is(err, wire.ErrForbidden):
		code = http.StatusForbidden
	case errors.Is(err, route.ErrNoRoute):
		code = http.StatusNotFound
	case errors.Is(err, route.ErrMethod):
		code = http.StatusMethodNotAllowed
	case errors.Is(err, wire.ErrLeaseRevoked):
		code = http.StatusConflict
	case errors.Is(err, cache.ErrTooLarge), errors.Is(err, fasthttp.ErrBodyTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnavailable):
		code = http.StatusServiceUnavailable
	}
	var m *wire.MalformedError
	switch {
	case errors.As(err, &m):
		return code, m.Message
	case code == http.StatusServiceUnavailable:
		return code, "cannot read the cache configuration: the database is unavailable"
	case code >= 500:
		return code, "internal error"
	}
	return code, err.Error()
}

// answerError answers err in the failure shape, logging the cause of a 5xx only: a client error says
// nothing about the health of the service.
func (s *Server) answerError(rc *fasthttp.RequestCtx, err error) {
	code, msg := statusOf(err)
	if code >= 500 {
		s.log.Error("request failed", "method", string(rc.Method()), "path", string(rc.Path()), "status", code, "err", err)
	}
	if code == http.StatusUnauthorized {
		rc.Response.Header.Set("WWW-Authenticate", `Bearer realm="imgcache-memcache"`)
	}
	route.WriteJSON(rc, code, wire.NewFailure(code, msg))
}

// readError answers a request fasthttp could not read: over the body limit, or malformed.
func (s *Server) readError(rc *fasthttp.RequestCtx, err error) {
	err = route.ReadError(err)
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		err = fmt.Errorf("request body exceeds the limit of %d bytes: %w", s.cfg.MaxBodySize, err)
	}
	rc.SetConnectionClose()
	s.answerError(rc, err)
}

// decode reads a request in either wire format: binary mode when the query carries the key.
func decode(rc *fasthttp.RequestCtx, wantValue bool) (wire.Request, error) {
	args := rc.QueryArgs()
	if k := args.Peek(wire.QueryKey); k != nil {
		return wire.DecodeBinary(k, args.Peek(wire.QueryLease), rc.PostBody(), wantValue)
	}
	return wire.DecodeJSON(rc.PostBody(), wantValue)
}

var okJSON = []byte(`{"success":"true"}`)

func writeOK(rc *fasthttp.RequestCtx) {
	rc.SetContentType(wire.ContentTypeJSON)
	rc.SetBody(okJSON)
}

func (s *Server) get(_ context.Context, rc *fasthttp.RequestCtx) error {
	r, err := decode(rc, false)
	if err != nil {
		return err
	}
	value, lease, ok := s.cache.Get(r.Key)
	if !ok {
		l := wire.Lease(lease)
		if l != 0 {
			rc.Response.Header.Set(wire.HeaderLease, l.String())
		}
		route.WriteJSON(rc, http.StatusNotFound, wire.Miss{
			Failure: wire.NewFailure(http.StatusNotFound, fmt.Sprintf("key %q is not in the cache", r.Key)),
			Lease:   l,
		})
		return nil
	}
	s.mrc.Access(r.Key, int64(len(r.Key)+len(value)))
	if r.Binary {
		rc.SetContentType(wire.ContentTypeRaw)
		// Stored values are immutable, so the response may point at them without a copy.
		rc.Response.SetBodyRaw(value)
		return nil
	}
	key, _ := json.Marshal(r.Key)
	rc.SetContentType(wire.ContentTypeJSON)
	rc.Response.ResetBody()
	rc.Response.AppendBodyString(`{"success":"true","key":`)
	rc.Response.AppendBody(key)
	rc.Response.AppendBodyString(`,"value":"`)
	rc.Response.AppendBody(value)
	rc.Response.AppendBodyString(`"}`)
	return nil
}

func (s *Server) put(_ context.Context, rc *fasthttp.RequestCtx) error {
	r, err := decode(rc, true)
	if err != nil {
		return err
	}
	if r.Lease != 0 {
		err = s.cache.Fill(r.Key, r.Value, r.Lease)
	} else {
		err = s.cache.Put(r.Key, r.Value)
	}
	if err != nil {
		return fmt.Errorf("put %q: %w", r.Key, err)
	}
	// A fill follows a miss: with the hits above, every lookup is simulated once.
	s.mrc.Access(r.Key, int64(len(r.Key)+len(r.Value)))
	writeOK(rc)
	return nil
}

func (s *Server) invalidate(_ context.Context, rc *fasthttp.RequestCtx) error {
	r, err := decode(rc, false)
	if err != nil {
		return err
	}
	removed := s.cache.Invalidate(r.Key)
	route.WriteJSON(rc, http.StatusOK, wire.Invalidated{Success: wire.True, Key: r.Key, Removed: removed})
	return nil
}

func (s *Server) clear(_ context.Context, rc *fasthttp.RequestCtx) error {
	s.cache.Clear()
	writeOK(rc)
	return nil
}

// refreshTimeout bounds the database read of /refresh_configuration.
const refreshTimeout = 10 * time.Second

func (s *Server) refreshConfiguration(ctx context.Context, rc *fasthttp.RequestCtx) error {
	rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	p, err := s.refresh(rctx)
	if err != nil {
		return fmt.Errorf("%w: %w", errUnavailable, err)
	}
	route.WriteJSON(rc, http.StatusOK, wire.Configured{Success: wire.True, CapacityMB: p.MaxCapacityMB, Policy: s.cache.Stats().Policy.String()})
	return nil
}

func (s *Server) statsHandler(_ context.Context, rc *fasthttp.RequestCtx) error {
	st := s.cache.Stats()
	route.WriteJSON(rc, http.StatusOK, wire.Stats{
		Success: wire.True, Items: st.Items, Bytes: st.Bytes, Capacity: st.Capacity,
		CapacityMB: st.Capacity / cache.MB, Policy: st.Policy.String(), Requests: s.requests.Load(),
		Gets: st.Gets, Hits: st.Hits, Misses: st.Misses, Puts: st.Puts, Fills: st.Fills,
		RefusedFills: st.RefusedFills, Evictions: st.Evictions, Invalidations: st.Invalidations,
	})
	return nil
}

// healthTimeout bounds the database check of /healthz.
const healthTimeout = time.Second

func (s *Server) health(ctx context.Context, rc *fasthttp.RequestCtx) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	h := wire.Health{Success: wire.True, Database: "ok"}
	if err := s.db.Ping(ctx); err != nil {
		h.Database = "unreachable"
	}
	route.WriteJSON(rc, http.StatusOK, h)
	return nil
}

// mrcHandler answers the live miss-ratio curve.
func (s *Server) mrcHandler(_ context.Context, rc *fasthttp.RequestCtx) error {
	route.WriteJSON(rc, http.StatusOK, s.mrc.Snapshot())
	return nil
}
