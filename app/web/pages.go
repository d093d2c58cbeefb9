package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"image"
	_ "image/gif" // DecodeConfig of stored images, for their dimensions
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"net/url"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/app/imagestore"
	"imgcache/memcache/wire"
)

// formValues reads the named fields of a POST body, url-encoded or multipart.
func formValues(rc *fasthttp.RequestCtx, names ...string) (map[string]string, error) {
	out := map[string]string{}
	if bytes.HasPrefix(rc.Request.Header.ContentType(), []byte("multipart/form-data")) {
		fields, _, err := app.ReadForm(rc)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if v, ok := fields[n]; ok {
				out[n] = v
			}
		}
		return out, nil
	}
	args := rc.PostArgs()
	for _, n := range names {
		if args.Has(n) {
			out[n] = string(args.Peek(n))
		}
	}
	return out, nil
}

// The home page.

type homePage struct {
	chrome
	Keys     int
	LiveOK   bool
	Live     wire.Stats
	HitRate  string
	Capacity string
}

func (s *Server) pageHome(ctx context.Context, rc *fasthttp.RequestCtx) error {
	n, err := s.store.CountImages(ctx)
	if err != nil {
		return s.DBError("count keys", err)
	}
	live, ok := s.LiveStats(ctx)
	p := &homePage{chrome: chrome{Title: "imgcache", Active: pathHome}, Keys: n, LiveOK: ok, Live: live}
	if ok {
		p.HitRate = rate(live.Hits, live.Gets, "no lookups yet")
		p.Capacity = capacityText(live.CapacityMB)
	}
	s.render(rc, http.StatusOK, "home", p)
	return nil
}

// The image page.

type imagePage struct {
	chrome
	Key       string // as typed, for the form
	Found     bool
	Src       template.URL // data: URL of the image
	Type      string
	Size      int64
	Width     int // 0 when the format's header is not decoded (WebP)
	Height    int
	FromCache bool
	NotFound  bool // no image is stored under Key
}

func (s *Server) pageImage(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if rc.IsPost() {
		// The original posted the key; a GET URL can be bookmarked and reloaded, so redirect to it.
		v, err := formValues(rc, "key")
		if err != nil {
			return err
		}
		seeOther(rc, pathImage+"?key="+url.QueryEscape(v["key"]))
		return nil
	}
	p := &imagePage{chrome: chrome{Title: "View image", Active: pathImage}}
	args := rc.QueryArgs()
	if !args.Has("key") {
		s.LiveStats(ctx) // for the banner
		s.render(rc, http.StatusOK, "image", p)
		return nil
	}
	key := string(args.Peek("key"))
	p.Key = app.ShownKey(key)
	img, err := s.Read(ctx, key, nil)
	if err != nil {
		code, msg := s.pageFailure(rc, err)
		p.Error, p.NotFound = msg, errors.Is(err, app.ErrNotFound)
		s.render(rc, code, "image", p)
		return nil
	}
	if string(args.Peek("uploaded")) == "1" {
		p.Flash = "Uploaded. This is the image now stored under the key."
	}
	p.Found, p.Type, p.Size, p.FromCache = true, img.ContentType, img.Size, img.FromCache
	switch img.ContentType {
	case imagestore.TypePNG, imagestore.TypeJPEG, imagestore.TypeGIF, imagestore.TypeWebP:
		// Safe as a URL: one of four fixed types and the base64 alphabet.
		p.Src = template.URL("data:" + img.ContentType + ";base64," + string(img.Base64))
	}
	if cfg, _, err := image.DecodeConfig(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(img.Base64))); err == nil {
		p.Width, p.Height = cfg.Width, cfg.Height
	}
	s.render(rc, http.StatusOK, "image", p)
	return nil
}

// The upload page.

type uploadPage struct {
	chrome
	Key       string
	MaxUpload int64
}

func (s *Server) uploadPage(errMsg string) *uploadPage {
	return &uploadPage{chrome: chrome{Title: "Upload an image", Active: pathUpload, Error: errMsg}, MaxUpload: int64(s.cfg.MaxUpload)}
}

func (s *Server) pageUpload(ctx context.Context, rc *fasthttp.RequestCtx) error {
	p := s.uploadPage("")
	if !rc.IsPost() {
		// ?key= fills the key in, for the link of a key with no image yet.
		p.Key = app.ShownKey(string(rc.QueryArgs().Peek("key")))
		s.LiveStats(ctx) // for the banner
		s.render(rc, http.StatusOK, "upload", p)
		return nil
	}
	fail := func(err error) error {
		code, msg := s.pageFailure(rc, err)
		p.Error = msg
		s.render(rc, code, "upload", p)
		return nil
	}
	fields, files, err := app.ReadForm(rc)
	if err != nil {
		return fail(err)
	}
	if err := checkForm(rc, fields[csrfField]); err != nil {
		return fail(err)
	}
	key := fields["key"]
	p.Key = app.ShownKey(key)
	if err := app.CheckKey(key); err != nil {
		return fail(err)
	}
	data, ok := files["file"]
	if !ok {
		// A browser sends an empty file field, without a file name, when no file was chosen.
		return fail(errorf(app.ErrInvalid, "Choose an image file to upload."))
	}
	if err := s.Upload(ctx, key, data); err != nil {
		return fail(err)
	}
	seeOther(rc, pathImage+"?key="+url.QueryEscape(key)+"&uploaded=1")
	return nil
}
