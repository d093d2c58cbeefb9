package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"imgcache/app/api"
	"imgcache/memcache/route"
)

// maxFormParts bounds the parts of a multipart form: the upload form has three, and every part costs
// memory and parsing however small it is.
const maxFormParts = 16

// ReadForm parses the request's multipart body, held in memory, into its text fields and files.
func ReadForm(rc *fasthttp.RequestCtx) (fields map[string]string, files map[string][]byte, err error) {
	return parseForm(string(rc.Request.Header.ContentType()), rc.PostBody())
}

// parseForm parses a multipart/form-data body into its text fields and files. fasthttp's own parser
// would spill large files to the system temp folder; this one never writes anywhere. A field name
// sent twice is refused rather than resolved one way or the other.
func parseForm(contentType string, body []byte) (fields map[string]string, files map[string][]byte, err error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, nil, errorf(ErrInvalid, "send a multipart/form-data body with the fields %q and %q", api.FieldKey, api.FieldFile)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	fields, files = map[string]string{}, map[string][]byte{}
	for parts := 0; ; parts++ {
		p, err := r.NextPart()
		if err == io.EOF {
			return fields, files, nil
		}
		if err != nil {
			return nil, nil, errorf(ErrInvalid, "malformed multipart body: %v", err)
		}
		if parts == maxFormParts {
			return nil, nil, errorf(ErrInvalid, "the form has more than %d parts", maxFormParts)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, errorf(ErrInvalid, "malformed multipart body: %v", err)
		}
		name := p.FormName()
		_, dupField := fields[name]
		_, dupFile := files[name]
		if dupField || dupFile {
			return nil, nil, errorf(ErrInvalid, "the form has the field %q twice; send it once", name)
		}
		if p.FileName() != "" {
			files[name] = data
		} else {
			fields[name] = string(data)
		}
	}
}

func (s *Server) apiUpload(ctx context.Context, rc *fasthttp.RequestCtx) error {
	fields, files, err := ReadForm(rc)
	if err != nil {
		return err
	}
	key, ok := fields[api.FieldKey]
	if !ok {
		if rc.QueryArgs().Has(api.FieldKey) {
			return errorf(ErrInvalid, "the key must be a form field in the request body, not a URL query parameter")
		}
		return errorf(ErrInvalid, "missing form field %q", api.FieldKey)
	}
	data, ok := files[api.FieldFile]
	if !ok {
		if _, asText := fields[api.FieldFile]; !asText {
			return errorf(ErrInvalid, "missing file field %q", api.FieldFile)
		}
		return errorf(ErrInvalid, "the %q field must be a file upload", api.FieldFile)
	}
	if err := s.Upload(ctx, key, data); err != nil {
		return err
	}
	route.WriteJSON(rc, http.StatusOK, api.Uploaded{Success: api.True, Key: key})
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
	route.WriteJSON(rc, http.StatusOK, api.Keys{Success: api.True, Keys: keys})
	return nil
}

// apiPool answers api.Pool: the pool's table, and which nodes this backend routes to now.
func (s *Server) apiPool(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if s.pool == nil {
		return errorf(ErrNotFound, "This backend runs over a single cache, not a memcache pool.")
	}
	nodes, err := s.poolDB.Nodes(ctx)
	if err != nil {
		return s.DBError("read the pool's nodes", err)
	}
	routed := map[int64]bool{}
	for _, m := range s.pool.Members() {
		routed[m.ID] = true
	}
	out := api.Pool{Success: api.True, Nodes: make([]api.PoolNode, 0, len(nodes))}
	for _, n := range nodes {
		out.Nodes = append(out.Nodes, api.PoolNode{ID: n.ID, Address: n.Address, State: n.State,
			Alive: n.Alive(s.cfg.NodeTimeout), Routed: routed[n.ID]})
		if routed[n.ID] {
			out.Routed++
		}
	}
	route.WriteJSON(rc, http.StatusOK, out)
	return nil
}

// apiKey answers api.Image, writing the base64 from the cache straight into the response buffer:
// base64 needs no JSON escaping.
func (s *Server) apiKey(ctx context.Context, rc *fasthttp.RequestCtx) error {
	key, err := KeyFromPath(string(rc.URI().PathOriginal()), api.PathKeyPrefix)
	if err != nil {
		return err
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

// KeyFromPath reads the key of prefix<key> (/api/key/<key>, /api/delete/<key>) from the original
// path, not fasthttp's normalised one: keys may hold "/" and "..", escaped or not. The key rule is
// checked too.
func KeyFromPath(original, prefix string) (string, error) {
	escaped, ok := strings.CutPrefix(original, prefix)
	if !ok {
		return "", errorf(ErrInvalid, "the path does not start with %s", prefix)
	}
	key, err := url.PathUnescape(escaped)
	if err != nil {
		return "", errorf(ErrInvalid, "the key in the path is not validly escaped: %v", err)
	}
	return key, CheckKey(key)
}

// apiDelete deletes one key's image: 404 in the failure shape when no image is stored under it.
func (s *Server) apiDelete(ctx context.Context, rc *fasthttp.RequestCtx) error {
	key, err := KeyFromPath(string(rc.URI().PathOriginal()), api.PathDeletePrefix)
	if err != nil {
		return err
	}
	if err := s.Delete(ctx, key); err != nil {
		return err
	}
	route.WriteJSON(rc, http.StatusOK, api.Deleted{Success: api.True, Key: key})
	return nil
}

func (s *Server) apiDeleteAll(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if err := s.DeleteAll(ctx); err != nil {
		return err
	}
	route.WriteJSON(rc, http.StatusOK, api.OK{Success: api.True})
	return nil
}

// Draining an oversized body before its 413: closing a connection with unread data makes the kernel
// send a reset, and the client then loses the answer while it is still writing. The drain is bounded
// in bytes and in time, so a client that declares a huge body and sends little is answered at once.
const (
	maxDrain     = 256 << 20
	drainTimeout = 500 * time.Millisecond
	// initialBody is the buffer a body starts in, before what arrives makes it grow.
	initialBody = 64 << 10
)

// headerReceived lets a request whose declared body is over the limit reach limitBody after one byte
// of it, for its 413: fasthttp otherwise waits for the first 8 KB of a body before the handler runs,
// and a client that declares a huge body and sends a few bytes would hold the connection until the
// read timeout.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if h.ContentLength() > s.cfg.MaxUpload+formOverhead {
		return fasthttp.RequestConfig{MaxRequestBodySize: 1, ReadTimeout: drainTimeout}
	}
	return fasthttp.RequestConfig{}
}

// limitBody reads a streamed body under the limit. A body declared or found over the limit is
// drained briefly and refused with fasthttp.ErrBodyTooLarge.
func (s *Server) limitBody(rc *fasthttp.RequestCtx) error {
	n := rc.Request.Header.ContentLength()
	if !rc.Request.IsBodyStream() || n == 0 {
		return nil
	}
	limit := s.cfg.MaxUpload + formOverhead
	stream := rc.RequestBodyStream()
	switch {
	case n > limit: // declared over the limit: not one byte of it is kept
		s.drain(rc, stream)
		return fasthttp.ErrBodyTooLarge
	case n > 0:
		// The buffer grows with what arrives, not with what the client declares: a client that
		// declares 16 MB and sends a few bytes must not make the server hold 16 MB meanwhile.
		buf := bytes.NewBuffer(make([]byte, 0, min(n, initialBody)))
		if got, err := buf.ReadFrom(io.LimitReader(stream, int64(n))); err != nil {
			return err
		} else if got < int64(n) {
			return io.ErrUnexpectedEOF
		}
		rc.Request.SetBodyRaw(buf.Bytes())
		return nil
	}
	// Chunked: read up to the limit, and refuse what goes past it.
	body, err := io.ReadAll(io.LimitReader(stream, int64(limit)+1))
	if err != nil {
		return err
	}
	if len(body) > limit {
		s.drain(rc, stream)
		return fasthttp.ErrBodyTooLarge
	}
	rc.Request.SetBodyRaw(body)
	return nil
}

// drain reads and throws away what the client is still sending, for at most drainTimeout and
// maxDrain bytes, and closes the connection after the answer.
func (s *Server) drain(rc *fasthttp.RequestCtx, stream io.Reader) {
	rc.SetConnectionClose()
	if conn := rc.Conn(); conn != nil {
		conn.SetReadDeadline(time.Now().Add(drainTimeout))
	}
	io.Copy(io.Discard, io.LimitReader(stream, maxDrain))
}
