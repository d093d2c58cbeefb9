package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"imgcache/app"

	"github.com/valyala/fasthttp"
)

// assets holds the page templates and the static files, so the binary needs no files beside it.
//
//go:embed templates/*.html static/*
var assets embed.FS

const (
	// pageCSP lets pages load only their own stylesheet and images, plus data: images (the image page
	// inlines the image it shows). No page runs JavaScript.
	pageCSP = "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

	// internalMessage replaces the message of a 500: the cause goes to the log, never to the page.
	internalMessage = "Something went wrong on our side. The details are in the server log; please try again."

	// fallbackPage answers when even the error page cannot be rendered.
	fallbackPage = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Error · imgcache</title>" +
		"<h1>500 Internal Server Error</h1><p>" + internalMessage + "</p><p><a href=\"/\">Home</a></p></html>\n"
)

// staticFile is an embedded asset with what its answer needs.
type staticFile struct {
	body        []byte
	contentType string
}

// pageSet is the parsed templates and the static files, built once by New.
type pageSet struct {
	tmpl    map[string]*template.Template // page name -> layout + that page's "content"
	static  map[string]staticFile         // name under /static/
	version string                        // hash of the static files: their URLs change when they do
}

// mustParsePages parses the embedded templates. They are part of the binary, so a failure is a
// programming error that every test run catches.
func mustParsePages() *pageSet {
	p, err := parsePages()
	if err != nil {
		panic(err)
	}
	return p
}

func parsePages() (*pageSet, error) {
	p := &pageSet{tmpl: map[string]*template.Template{}, static: map[string]staticFile{}}
	sum := sha256.New()
	err := fs.WalkDir(assets, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(name)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		rel := strings.TrimPrefix(name, "static/")
		p.static[rel] = staticFile{body: b, contentType: ct}
		fmt.Fprintf(sum, "%s\x00%d\x00", rel, len(b))
		sum.Write(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	p.version = hex.EncodeToString(sum.Sum(nil))[:12]

	funcs := template.FuncMap{
		"static": func(name string) string { return staticPrefix + name + "?v=" + p.version },
		"size":   app.HumanSize,
		"bytes":  app.ByteCount,
		"when":   formatTime,
		"pct":    func(r float64) string { return percent(r, "-") },
	}
	// The page templates under templates/, besides layout.html.
	for _, name := range []string{"home", "image", "upload", "keys", "properties", "stats", "pool", "reports", "report", "compare", "confirm", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("page template %s: %w", name, err)
		}
		p.tmpl[name] = t
	}
	return p, nil
}

// chrome is what the layout shows around every page.
type chrome struct {
	Title     string
	Active    string    // path of the highlighted navigation link
	Nav       []navItem // set by render from the route table
	CacheDown bool      // set by render from the server's view of the cache
	Flash     string    // the outcome of the last action
	Warning   string    // an outcome that needs attention: done, but not all of it
	Refresh   int       // seconds after which the page reloads itself; 0 never
	CSRF      string    // the form token, set by render
	Error     string    // what went wrong, in words for the person at the browser
}

func (c *chrome) page() *chrome { return c }

// pageData is a page's template data: a struct that embeds chrome.
type pageData interface{ page() *chrome }

// pageFailure maps err to a status and a message for the page, as the API does, with a 500's message
// replaced so that nothing internal reaches the browser.
func (s *Server) pageFailure(rc *fasthttp.RequestCtx, err error) (int, string) {
	code, msg := s.Failure(rc, err)
	if code == http.StatusInternalServerError {
		msg = internalMessage
	}
	// The API's messages start in lower case, to follow other text; on a page each stands alone.
	if r, n := utf8.DecodeRuneInString(msg); unicode.IsLower(r) {
		msg = string(unicode.ToUpper(r)) + msg[n:]
	}
	if code == http.StatusMethodNotAllowed && !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return code, msg
}

// errorPage is the page of a request that failed as a whole.
type errorPage struct {
	chrome
	Code int
}

// pageError answers err as a page in the common layout. A failed upload keeps its form (a body over the
// limit lands here from the server's read-error handler).
func (s *Server) pageError(rc *fasthttp.RequestCtx, err error) {
	code, msg := s.pageFailure(rc, err)
	if string(rc.Path()) == pathUpload && rc.IsPost() {
		s.render(rc, code, "upload", s.uploadPage(msg))
		return
	}
	title := strconv.Itoa(code) + " " + http.StatusText(code)
	s.render(rc, code, "error", &errorPage{chrome: chrome{Title: title, Error: msg}, Code: code})
}

// render executes a page into a buffer first, so that a template failure becomes a clean 500.
func (s *Server) render(rc *fasthttp.RequestCtx, status int, name string, data pageData) {
	c := data.page()
	c.CacheDown, c.Nav, c.CSRF = s.CacheDown(), s.navBar(), formToken(rc)
	var buf bytes.Buffer
	err := s.pages.tmpl[name].ExecuteTemplate(&buf, "layout", data)
	if err != nil {
		s.log.Error("render page", "page", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		if err := s.pages.tmpl["error"].ExecuteTemplate(&buf, "layout", &errorPage{
			chrome: chrome{Title: "500 Internal Server Error", Error: internalMessage, Nav: s.navBar()}, Code: status,
		}); err != nil {
			buf.Reset()
			buf.WriteString(fallbackPage)
		}
	}
	rc.SetStatusCode(status)
	rc.SetContentType("text/html; charset=utf-8")
	pageHeaders(rc)
	rc.Response.Header.Set("Cache-Control", "no-store")
	rc.SetBody(buf.Bytes())
}

func pageHeaders(rc *fasthttp.RequestCtx) {
	h := &rc.Response.Header
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// seeOther ends a successful form post: the browser loads target with GET, so reloading the result
// does not post again.
func seeOther(rc *fasthttp.RequestCtx, target string) {
	rc.Response.Header.Set("Location", target)
	rc.Response.Header.Set("Cache-Control", "no-store")
	rc.SetStatusCode(http.StatusSeeOther)
}

// serveStatic answers an embedded asset. Its URL carries a version that changes with the content, so
// browsers may keep it for a year.
func (s *Server) serveStatic(_ context.Context, rc *fasthttp.RequestCtx) error {
	name := strings.TrimPrefix(string(rc.Path()), staticPrefix)
	f, ok := s.pages.static[name]
	if !ok {
		return errorf(app.ErrNotFound, "There is no file %q.", string(rc.Path()))
	}
	rc.SetContentType(f.contentType)
	rc.Response.Header.Set("Cache-Control", "public, max-age=31536000, immutable")
	rc.Response.Header.Set("X-Content-Type-Options", "nosniff")
	rc.SetBody(f.body)
	return nil
}
