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

	"github.com/valyala/fasthttp"

	"imgcache/app/api"
	"imgcache/memcache/route"
)

// readForm parses a multipart body held in memory into its text fields and files. fasthttp's own
// parser would spill large files to the system temp folder; this one never writes anywhere.
func readForm(rc *fasthttp.RequestCtx) (fields map[string]string, files map[string][]byte, err error) {
	mediaType, params, err := mime.ParseMediaType(string(rc.Request.Header.ContentType()))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, nil, errorf(ErrInvalid, "send a multipart/form-data body with the fields %q and %q", api.FieldKey, api.FieldFile)
	}
	r := multipart.NewReader(bytes.NewReader(rc.PostBody()), params["boundary"])
	fields, files = map[string]string{}, map[string][]byte{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return fields, files, nil
		}
		if err != nil {
			return nil, nil, errorf(ErrInvalid, "malformed multipart body: %v", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, errorf(ErrInvalid, "malformed multipart body: %v", err)
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

// apiKey answers api.Image, writing the base64 from the cache straight into the response buffer:
// base64 needs no JSON escaping.
func (s *Server) apiKey(ctx context.Context, rc *fasthttp.RequestCtx) error {
	// The original path, not fasthttp's normalised one: keys may hold "/" and "..", escaped or not.
	escaped := strings.TrimPrefix(string(rc.URI().PathOriginal()), api.PathKeyPrefix)
	key, err := url.PathUnescape(escaped)
	if err != nil {
		return errorf(ErrInvalid, "the key in the path is not validly escaped: %v", err)
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
	route.WriteJSON(rc, http.StatusOK, api.OK{Success: api.True})
	return nil
}

// maxDrain bounds how much of an oversized body is read and thrown away before answering 413.
const maxDrain = 256 << 20

// limitBody reads a streamed body under the limit. The server streams bodies so that an oversized one
// can be drained before the 413 goes out: closing a connection with unread data makes the kernel send a
// reset, and the client then loses the answer while it is still writing.
func (s *Server) limitBody(rc *fasthttp.RequestCtx) error {
	n := rc.Request.Header.ContentLength()
	if !rc.Request.IsBodyStream() || n == 0 {
		return nil
	}
	limit := s.cfg.MaxUpload + formOverhead
	stream := rc.RequestBodyStream()
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
				rc.SetConnectionClose()
			}
			return fasthttp.ErrBodyTooLarge
		}
	}
	rc.Request.SetBodyRaw(body)
	return nil
}
