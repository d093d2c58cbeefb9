package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"imgcache/memcache/envelope"
	"imgcache/memcache/metrics"
)

const apiKeyPrefix = "/api/key/"

// handle routes a request: the API and health check here, everything else to the pages.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	if err := s.limitBody(ctx); err != nil {
		s.readError(ctx, err)
		return
	}
	path := string(ctx.Path())
	switch {
	// Matched on the original path: fasthttp's cleaned one turns a key like "../x" into another path.
	case strings.HasPrefix(string(ctx.URI().PathOriginal()), apiKeyPrefix):
		s.api(ctx, []string{http.MethodPost, http.MethodGet}, s.apiKey)
	case path == "/api/upload":
		s.api(ctx, []string{http.MethodPost}, s.apiUpload)
	case path == "/api/list_keys":
		s.api(ctx, []string{http.MethodPost, http.MethodGet}, s.apiListKeys)
	case path == "/api/delete_all":
		s.api(ctx, []string{http.MethodPost}, s.apiDeleteAll)
	case path == metrics.Path:
		s.api(ctx, []string{http.MethodGet}, func(_ context.Context, rc *fasthttp.RequestCtx) error { s.metrics.handler(rc); return nil })
	case path == "/healthz":
		s.api(ctx, []string{http.MethodGet, http.MethodHead}, func(_ context.Context, rc *fasthttp.RequestCtx) error {
			rc.SetContentType("application/json")
			rc.SetBodyString(`{"success":"true"}`)
			return nil
		})
	case strings.HasPrefix(path, "/api/"):
		s.api(ctx, nil, nil)
	default:
		s.servePage(ctx)
	}
}

// api checks the method and runs h, answering its error in the failure shape. A nil h is an unknown
// endpoint.
func (s *Server) api(rc *fasthttp.RequestCtx, methods []string, h handler) {
	if h == nil {
		envelope.WriteError(rc, s.log, envelope.Errorf(http.StatusNotFound, "no such endpoint %q", rc.Path()))
		return
	}
	if !allowed(rc, methods) {
		envelope.WriteError(rc, s.log, envelope.Errorf(http.StatusMethodNotAllowed, "%s is not allowed here; use %s", rc.Method(), strings.Join(methods, " or ")))
		return
	}
	ctx, done := s.requestContext()
	defer done()
	if err := h(ctx, rc); err != nil {
		envelope.WriteError(rc, s.log, httpError(err))
	}
}

func allowed(ctx *fasthttp.RequestCtx, methods []string) bool {
	m := string(ctx.Method())
	for _, want := range methods {
		if m == want {
			return true
		}
	}
	ctx.Response.Header.Set("Allow", strings.Join(methods, ", "))
	return false
}

// httpError maps the backend's errors to statuses: the one place where that is decided.
func httpError(err error) error {
	var e *envelope.Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, ErrNotFound):
		return &envelope.Error{Code: http.StatusNotFound, Message: strings.TrimSuffix(err.Error(), ": "+ErrNotFound.Error())}
	case errors.Is(err, ErrDatabase):
		return &envelope.Error{Code: http.StatusServiceUnavailable, Message: "the database is unavailable; try again shortly", Cause: err}
	}
	return err
}

// readForm parses a multipart body held in memory into its text fields and files. fasthttp's own
// parser would spill large files to the system temp folder; this one never writes anywhere.
func readForm(ctx *fasthttp.RequestCtx) (fields map[string]string, files map[string][]byte, err error) {
	mediaType, params, err := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, nil, envelope.Errorf(http.StatusBadRequest, "send a multipart/form-data body with the fields \"key\" and \"file\"")
	}
	r := multipart.NewReader(bytes.NewReader(ctx.PostBody()), params["boundary"])
	fields, files = map[string]string{}, map[string][]byte{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return fields, files, nil
		}
		if err != nil {
			return nil, nil, envelope.Errorf(http.StatusBadRequest, "malformed multipart body: %v", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, envelope.Errorf(http.StatusBadRequest, "malformed multipart body: %v", err)
		}
		name := p.FormName()
		if p.FileName() != "" {
			files[name] = data
		} else if _, dup := fields[name]; !dup {
			fields[name] = string(data)
		}
	}
}

func (s *Server) apiUpload(ctx context.Context, rc *fasthttp.RequestCtx) error {
	fields, files, err := readForm(rc)
	if err != nil {
		return err
	}
	key, ok := fields["key"]
	if !ok {
		if rc.QueryArgs().Has("key") {
			return envelope.Errorf(http.StatusBadRequest, "the key must be a form field in the request body, not a URL query parameter")
		}
		return envelope.Errorf(http.StatusBadRequest, "missing form field \"key\"")
	}
	data, ok := files["file"]
	if !ok {
		if _, asText := fields["file"]; !asText {
			return envelope.Errorf(http.StatusBadRequest, "missing file field \"file\"")
		}
		return envelope.Errorf(http.StatusBadRequest, "the \"file\" field must be a file upload")
	}
	if err := s.Upload(ctx, key, data); err != nil {
		return err
	}
	envelope.WriteJSON(rc, http.StatusOK, struct {
		Success string `json:"success"`
		Key     string `json:"key"`
	}{envelope.True, key})
	return nil
}

func (s *Server) apiListKeys(ctx context.Context, rc *fasthttp.RequestCtx) error {
	imgs, err := s.Keys(ctx)
	if err != nil {
		return err
	}
	keys := make([]string, len(imgs))
	for i, img := range imgs {
		keys[i] = img.Key
	}
	envelope.WriteJSON(rc, http.StatusOK, struct {
		Success string   `json:"success"`
		Keys    []string `json:"keys"`
	}{envelope.True, keys})
	return nil
}

// apiKey answers {"success":"true","key":K,"content":BASE64}, writing the base64 from the cache straight
// into the response buffer: base64 needs no JSON escaping.
func (s *Server) apiKey(ctx context.Context, rc *fasthttp.RequestCtx) error {
	// The original path, not fasthttp's normalised one: keys may hold "/" and "..", escaped or not.
	escaped := strings.TrimPrefix(string(rc.URI().PathOriginal()), apiKeyPrefix)
	key, err := url.PathUnescape(escaped)
	if err != nil {
		return envelope.Errorf(http.StatusBadRequest, "the key in the path is not validly escaped: %v", err)
	}
	quoted, err := json.Marshal(key)
	if err != nil {
		return err
	}
	buf := rc.Response.Body()[:0]
	buf = append(buf, `{"success":"true","key":`...)
	buf = append(buf, quoted...)
	buf = append(buf, `,"content":"`...)
	img, err := s.Read(ctx, key, buf)
	if err != nil {
		return err
	}
	buf = append(img.Base64, `"}`...)
	rc.SetContentType("application/json")
	rc.Response.SwapBody(buf)
	return nil
}

func (s *Server) apiDeleteAll(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if err := s.DeleteAll(ctx); err != nil {
		return err
	}
	envelope.WriteJSON(rc, http.StatusOK, struct {
		Success string `json:"success"`
	}{envelope.True})
	return nil
}

// maxDrain bounds how much of an oversized body is read and thrown away before answering 413.
const maxDrain = 256 << 20

// limitBody reads a streamed body under the limit. The server streams bodies so that an oversized one
// can be drained before the 413 goes out: closing a connection with unread data makes the kernel send a
// reset, and the client then loses the answer while it is still writing.
func (s *Server) limitBody(ctx *fasthttp.RequestCtx) error {
	n := ctx.Request.Header.ContentLength()
	if !ctx.Request.IsBodyStream() || n == 0 {
		return nil
	}
	limit := s.cfg.MaxUpload + formOverhead
	stream := ctx.RequestBodyStream()
	var body []byte
	if n > 0 && n <= limit {
		body = make([]byte, n)
		if _, err := io.ReadFull(stream, body); err != nil {
			return err
		}
	} else { // chunked, or declared over the limit
		var err error
		if body, err = io.ReadAll(io.LimitReader(stream, int64(limit)+1)); err != nil {
			return err
		}
		if len(body) > limit {
			if drained, _ := io.Copy(io.Discard, io.LimitReader(stream, maxDrain)); drained == maxDrain {
				ctx.SetConnectionClose()
			}
			return fasthttp.ErrBodyTooLarge
		}
	}
	ctx.Request.SetBodyRaw(body)
	return nil
}

// readError answers a request whose body could not be read: 413 for a body over the limit (fasthttp
// would answer a plain 400), 400 otherwise; in the failure shape for the API, as a page elsewhere.
func (s *Server) readError(ctx *fasthttp.RequestCtx, err error) {
	e := envelope.Errorf(http.StatusBadRequest, "malformed request: %v", err)
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		e = envelope.Errorf(http.StatusRequestEntityTooLarge, "the request body is over the limit of %d bytes (images up to %d bytes)", s.cfg.MaxUpload+formOverhead, s.cfg.MaxUpload)
	}
	if strings.HasPrefix(string(ctx.Path()), "/api/") {
		envelope.WriteError(ctx, s.log, e)
		return
	}
	s.pageError(ctx, e)
}
