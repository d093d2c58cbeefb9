package memcache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"imgcache/memcache/cache"
	"imgcache/memcache/envelope"
	"imgcache/memcache/metrics"
)

// routeName labels a request for the metrics: its endpoint, or "other", never a caller's path.
func routeName(ctx *fasthttp.RequestCtx) string {
	// Each case returns its literal: a switch on the converted path does not allocate, the result must not either.
	switch string(ctx.Path()) {
	case "/get_from_memcache":
		return "/get_from_memcache"
	case "/put_into_memcache":
		return "/put_into_memcache"
	case "/invalidate_specific_key":
		return "/invalidate_specific_key"
	case "/clear_cache":
		return "/clear_cache"
	case "/refresh_configuration":
		return "/refresh_configuration"
	case "/stats":
		return "/stats"
	case "/healthz":
		return "/healthz"
	case "/metrics":
		return "/metrics"
	}
	return "other"
}

// MaxKeyLen bounds keys in bytes. The backend's own rule (255) is stricter; the service only guards
// itself against absurd keys.
const MaxKeyLen = 1024

// The wire format, documented in the README: JSON bodies {"key","value","lease"} as in the original
// design, or, when the query string carries key=..., binary mode: the value travels as the raw request
// or response body (the base64 text itself, no JSON around it) and the lease in the X-Lease header.
// Binary mode is what the backend's client uses: a hit is then one copy from the cache to the socket.
const (
	headerLease     = "X-Lease"
	contentTypeJSON = "application/json"
	contentTypeRaw  = "application/octet-stream"
)

var (
	pathPut        = []byte("/put_into_memcache")
	pathGet        = []byte("/get_from_memcache")
	pathInvalidate = []byte("/invalidate_specific_key")
	pathClear      = []byte("/clear_cache")
	pathRefresh    = []byte("/refresh_configuration")
	pathStats      = []byte("/stats")
	pathHealth     = []byte("/healthz")
	pathMetrics    = []byte(metrics.Path)
	argKey         = []byte("key")
	argLease       = []byte("lease")
)

type route struct {
	method string
	serve  func(s *Server, ctx *fasthttp.RequestCtx) error
}

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	s.requests.Add(1)
	var r route
	switch p := ctx.Path(); {
	case bytes.Equal(p, pathGet):
		r = route{http.MethodPost, (*Server).get}
	case bytes.Equal(p, pathPut):
		r = route{http.MethodPost, (*Server).put}
	case bytes.Equal(p, pathInvalidate):
		r = route{http.MethodPost, (*Server).invalidate}
	case bytes.Equal(p, pathClear):
		r = route{http.MethodPost, (*Server).clear}
	case bytes.Equal(p, pathRefresh):
		r = route{http.MethodPost, (*Server).refreshConfiguration}
	case bytes.Equal(p, pathStats):
		r = route{http.MethodGet, (*Server).statsHandler}
	case bytes.Equal(p, pathHealth):
		r = route{http.MethodGet, (*Server).health}
	case bytes.Equal(p, pathMetrics):
		r = route{http.MethodGet, func(s *Server, ctx *fasthttp.RequestCtx) error { s.metrics(ctx); return nil }}
	default:
		envelope.WriteError(ctx, s.log, envelope.Errorf(http.StatusNotFound, "no such endpoint %q", ctx.Path()))
		return
	}
	if m := ctx.Method(); string(m) != r.method && !(r.method == http.MethodGet && string(m) == http.MethodHead) {
		ctx.Response.Header.Set("Allow", r.method)
		envelope.WriteError(ctx, s.log, envelope.Errorf(http.StatusMethodNotAllowed, "%s %s: method not allowed, use %s", m, ctx.Path(), r.method))
		return
	}
	if err := r.serve(s, ctx); err != nil {
		envelope.WriteError(ctx, s.log, httpError(err))
	}
}

// httpError maps the engine's errors to statuses: the one place where that is decided.
func httpError(err error) error {
	var e *envelope.Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, cache.ErrLeaseRevoked):
		return &envelope.Error{Code: http.StatusConflict, Message: err.Error()}
	case errors.Is(err, cache.ErrTooLarge):
		return &envelope.Error{Code: http.StatusRequestEntityTooLarge, Message: err.Error()}
	case errors.Is(err, cache.ErrUnknownPolicy):
		return &envelope.Error{Code: http.StatusUnprocessableEntity, Message: err.Error()}
	}
	return err
}

// request is the JSON form of a request body.
type request struct {
	Key   *string         `json:"key"`
	Value json.RawMessage `json:"value"`
	Lease json.Number     `json:"lease"`
}

// parsed is a request in either wire format.
type parsed struct {
	key   string
	value []byte // owned by the handler: a copy, never fasthttp's buffer
	lease cache.Lease
	raw   bool
}

func (s *Server) parse(ctx *fasthttp.RequestCtx, wantValue bool) (parsed, error) {
	var p parsed
	args := ctx.QueryArgs()
	if k := args.PeekBytes(argKey); k != nil {
		p.raw = true
		p.key = string(k)
		if l := args.PeekBytes(argLease); len(l) > 0 {
			var err error
			if p.lease, err = parseLease(string(l)); err != nil {
				return p, err
			}
		}
		if wantValue {
			p.value = bytes.Clone(ctx.PostBody())
			if p.value == nil {
				p.value = []byte{}
			}
		}
	} else {
		var req request
		body := ctx.PostBody()
		if len(bytes.TrimSpace(body)) == 0 {
			return p, envelope.Errorf(http.StatusBadRequest, "empty body: send a JSON object with a \"key\"")
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&req); err != nil {
			return p, envelope.Errorf(http.StatusBadRequest, "malformed JSON: %v", err)
		}
		if req.Key == nil {
			return p, envelope.Errorf(http.StatusBadRequest, "missing \"key\"")
		}
		p.key = *req.Key
		if req.Lease != "" {
			var err error
			if p.lease, err = parseLease(req.Lease.String()); err != nil {
				return p, err
			}
		}
		if wantValue {
			v, err := jsonValue(req.Value)
			if err != nil {
				return p, err
			}
			p.value = v
		}
	}
	if err := checkKey(p.key); err != nil {
		return p, err
	}
	if wantValue && !validBase64(p.value) {
		return p, envelope.Errorf(http.StatusBadRequest, "value for key %q is not valid base64 (standard alphabet, padded)", p.key)
	}
	return p, nil
}

// parseLease reads a lease token in either wire format.
func parseLease(v string) (cache.Lease, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, envelope.Errorf(http.StatusBadRequest, "lease %q is not a whole number", v)
	}
	return cache.Lease(n), nil
}

// jsonValue extracts the base64 text of a JSON string without decoding it: base64 never needs escapes,
// so the common case is the bytes between the quotes. Escaped input ("\/" from some encoders) takes the
// slow path.
func jsonValue(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, envelope.Errorf(http.StatusBadRequest, "missing \"value\"")
	}
	if raw[0] != '"' {
		return nil, envelope.Errorf(http.StatusBadRequest, "\"value\" must be a base64 string")
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1 : len(raw)-1], nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, envelope.Errorf(http.StatusBadRequest, "\"value\": %v", err)
	}
	return []byte(v), nil
}

func checkKey(k string) error {
	switch {
	case k == "":
		return envelope.Errorf(http.StatusBadRequest, "empty key")
	case len(k) > MaxKeyLen:
		return envelope.Errorf(http.StatusBadRequest, "key of %d bytes is over the limit of %d", len(k), MaxKeyLen)
	case !utf8.ValidString(k):
		return envelope.Errorf(http.StatusBadRequest, "key is not valid UTF-8")
	}
	return nil
}

// validBase64 reports whether b is standard, padded base64, without decoding it.
func validBase64(b []byte) bool {
	if len(b)%4 != 0 {
		return false
	}
	n := len(b)
	if n > 0 && b[n-1] == '=' {
		n--
		if n > 0 && b[n-1] == '=' {
			n--
		}
	}
	for _, c := range b[:n] {
		if !isBase64[c] {
			return false
		}
	}
	return true
}

var isBase64 = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		t[c] = true
	}
	return t
}()

type okBody struct {
	Success string `json:"success"`
}

var okJSON = []byte(`{"success":"true"}`)

func writeOK(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType(contentTypeJSON)
	ctx.SetBody(okJSON)
}

// missBody is the failure shape plus the lease that the caller needs to fill the key.
type missBody struct {
	envelope.Failure
	Lease cache.Lease `json:"lease,omitempty"`
}

func (s *Server) get(ctx *fasthttp.RequestCtx) error {
	p, err := s.parse(ctx, false)
	if err != nil {
		return err
	}
	value, lease, ok := s.cache.Get(p.key)
	if !ok {
		if lease != 0 {
			ctx.Response.Header.Set(headerLease, strconv.FormatUint(uint64(lease), 10))
		}
		envelope.WriteJSON(ctx, http.StatusNotFound, missBody{
			Failure: envelope.Failure{Success: envelope.False, Error: envelope.FailureBody{
				Code: http.StatusNotFound, Message: fmt.Sprintf("key %q is not in the cache", p.key)}},
			Lease: lease,
		})
		return nil
	}
	if p.raw {
		ctx.SetContentType(contentTypeRaw)
		// Stored values are immutable, so the response may point at them without a copy.
		ctx.Response.SetBodyRaw(value)
		return nil
	}
	key, _ := json.Marshal(p.key)
	ctx.SetContentType(contentTypeJSON)
	w := ctx.Response.BodyWriter()
	ctx.Response.ResetBody()
	fmt.Fprintf(w, `{"success":"true","key":%s,"value":"`, key)
	ctx.Response.AppendBody(value)
	ctx.Response.AppendBodyString(`"}`)
	return nil
}

func (s *Server) put(ctx *fasthttp.RequestCtx) error {
	p, err := s.parse(ctx, true)
	if err != nil {
		return err
	}
	if p.lease != 0 {
		err = s.cache.Fill(p.key, p.value, p.lease)
	} else {
		err = s.cache.Put(p.key, p.value)
	}
	if err != nil {
		return fmt.Errorf("put %q: %w", p.key, err)
	}
	writeOK(ctx)
	return nil
}

func (s *Server) invalidate(ctx *fasthttp.RequestCtx) error {
	p, err := s.parse(ctx, false)
	if err != nil {
		return err
	}
	removed := s.cache.Invalidate(p.key)
	envelope.WriteJSON(ctx, http.StatusOK, struct {
		Success string `json:"success"`
		Key     string `json:"key"`
		Removed bool   `json:"removed"`
	}{envelope.True, p.key, removed})
	return nil
}

func (s *Server) clear(ctx *fasthttp.RequestCtx) error {
	s.cache.Clear()
	writeOK(ctx)
	return nil
}

// refreshTimeout bounds the database read of /refresh_configuration.
const refreshTimeout = 10 * time.Second

func (s *Server) refreshConfiguration(ctx *fasthttp.RequestCtx) error {
	// Not ctx as the context: database/sql keeps goroutines that read their context after the handler
	// has returned, and fasthttp reuses the RequestCtx for the next request.
	rctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	p, err := s.refresh(rctx)
	if err != nil {
		return envelope.Errorf(http.StatusServiceUnavailable, "cannot read the cache configuration: %v", err)
	}
	envelope.WriteJSON(ctx, http.StatusOK, struct {
		Success    string `json:"success"`
		CapacityMB int    `json:"capacity_mb"`
		Policy     string `json:"policy"`
	}{envelope.True, p.MaxCapacityMB, s.cache.Stats().Policy.String()})
	return nil
}

// Stats is the body of GET /stats: gauges now and counters since the service started.
type Stats struct {
	Success       string `json:"success"`
	Items         int    `json:"items"`
	Bytes         int64  `json:"bytes"`
	Capacity      int64  `json:"capacity"`
	CapacityMB    int64  `json:"capacity_mb"`
	Policy        string `json:"policy"`
	Requests      uint64 `json:"requests"`
	Gets          uint64 `json:"gets"`
	Hits          uint64 `json:"hits"`
	Misses        uint64 `json:"misses"`
	Puts          uint64 `json:"puts"`
	Fills         uint64 `json:"fills"`
	RefusedFills  uint64 `json:"refused_fills"`
	Evictions     uint64 `json:"evictions"`
	Invalidations uint64 `json:"invalidations"`
}

func (s *Server) statsHandler(ctx *fasthttp.RequestCtx) error {
	st := s.cache.Stats()
	envelope.WriteJSON(ctx, http.StatusOK, Stats{
		Success: envelope.True, Items: st.Items, Bytes: st.Bytes, Capacity: st.Capacity,
		CapacityMB: st.Capacity / cache.MB, Policy: st.Policy.String(), Requests: s.requests.Load(),
		Gets: st.Gets, Hits: st.Hits, Misses: st.Misses, Puts: st.Puts, Fills: st.Fills,
		RefusedFills: st.RefusedFills, Evictions: st.Evictions, Invalidations: st.Invalidations,
	})
	return nil
}

func (s *Server) health(ctx *fasthttp.RequestCtx) error {
	writeOK(ctx)
	return nil
}
