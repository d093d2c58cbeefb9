package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/app/imagestore"
	"imgcache/database"
)

// thumbMaxAge is how long a browser may reuse a thumbnail without asking: short, because the URL names
// a key, whose image an upload can replace at any moment.
const thumbMaxAge = 60

// thumbCSP forbids everything to a thumbnail opened on its own: it is an image, never a document.
const thumbCSP = "default-src 'none'; sandbox"

// thumbURL is the URL of key's image for an <img>: the key path-escaped, as in /api/key/<key>.
func thumbURL(key string) string { return pathThumb + url.PathEscape(key) }

// serveThumb answers the stored bytes of a key's image, for the keys page's thumbnails. It reads the
// object from the store, not through the cache: browsing the list must not change what the cache
// holds, nor its hit rate. The ETag names the object, which never changes content, so a browser that
// has it gets a 304 without the object being read.
func (s *Server) serveThumb(ctx context.Context, rc *fasthttp.RequestCtx) error {
	key, err := app.KeyFromPath(string(rc.URI().PathOriginal()), pathThumb)
	if err != nil {
		return err
	}
	row, err := s.store.GetImage(ctx, key)
	if errors.Is(err, database.ErrNotFound) {
		return errorf(app.ErrNotFound, "No image is stored under key %q.", key)
	}
	if err != nil {
		return s.DBError("read key", err)
	}
	h := &rc.Response.Header
	sum := sha256.Sum256([]byte(row.Location))
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, max-age="+strconv.Itoa(thumbMaxAge))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", thumbCSP)
	if string(rc.Request.Header.Peek("If-None-Match")) == etag {
		rc.SetStatusCode(fasthttp.StatusNotModified)
		return nil
	}
	data, err := s.objects.Get(ctx, row.Location)
	if errors.Is(err, imagestore.ErrNotFound) {
		// Replaced or deleted between the row and the object: the next request finds the new row.
		return errorf(app.ErrNotFound, "The image under key %q changed while it was read; reload the page.", key)
	}
	if err != nil {
		return fmt.Errorf("thumbnail of %q: %w", key, err)
	}
	rc.SetContentType(imageType(row.ContentType))
	rc.SetBody(data)
	return nil
}

// imageType is a stored content type as an answer's Content-Type: one of the four the upload accepts,
// or a type no browser renders.
func imageType(ct string) string {
	switch ct {
	case imagestore.TypePNG, imagestore.TypeJPEG, imagestore.TypeGIF, imagestore.TypeWebP:
		return ct
	}
	return "application/octet-stream"
}
