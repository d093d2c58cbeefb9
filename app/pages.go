package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"image"
	_ "image/gif" // DecodeConfig of uploaded images, for their dimensions
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
	"gonum.org/v1/plot/vg"

	"imgcache/app/imagestore"
	"imgcache/database"
	"imgcache/memcache"
	"imgcache/memcache/cache"
	"imgcache/memcache/envelope"
	"imgcache/reports/statschart"
)

// assets holds the page templates and the static files, so the binary needs no files beside it.
//
//go:embed templates/*.html static/*
var assets embed.FS

const (
	staticPrefix = "/static/"
	chartPrefix  = "/cache_stats/chart/"

	// pageCSP lets pages load only their own stylesheet and images, plus data: images (the image page
	// inlines the image it shows). No page runs JavaScript.
	pageCSP = "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

	// liveStatsTimeout bounds the memcache call a page makes for its figures: a hung cache slows a page
	// by this much at most, and the page then says the cache is unreachable.
	liveStatsTimeout = 500 * time.Millisecond

	// chartDPI is the resolution reports draws PNGs at, for the <img> size on the statistics page.
	chartDPI = 96

	// internalMessage replaces the message of a 500: the cause goes to the log, never to the page.
	internalMessage = "Something went wrong on our side. The details are in the server log; please try again."

	// fallbackPage answers when even the error page cannot be rendered.
	fallbackPage = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Error · imgcache</title>" +
		"<h1>500 Internal Server Error</h1><p>" + internalMessage + "</p><p><a href=\"/\">Home</a></p></html>\n"
)

// navItem is one link of the navigation bar.
type navItem struct{ Path, Label string }

// navBar is the navigation bar every page shares, in order.
func navBar() []navItem {
	return []navItem{
		{"/", "Home"},
		{"/image", "View image"},
		{"/upload_image", "Upload"},
		{"/keys_list", "Keys"},
		{"/cache_properties", "Cache properties"},
		{"/cache_stats", "Cache statistics"},
	}
}

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

// pageNames are the page templates under templates/, besides layout.html.
var pageNames = []string{"home", "image", "upload", "keys", "properties", "stats", "error"}

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
		"nav":    navBar,
		"static": func(name string) string { return staticPrefix + name + "?v=" + p.version },
		"size":   humanSize,
		"bytes":  byteCount,
		"when":   formatTime,
	}
	for _, name := range pageNames {
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
	Active    string // path of the highlighted navigation link
	CacheDown bool   // set by render from the server's view of the cache
	Flash     string // the outcome of the last action
	Error     string // what went wrong, in words for the person at the browser
}

func (c *chrome) page() *chrome { return c }

// pageData is a page's template data: a struct that embeds chrome.
type pageData interface{ page() *chrome }

// servePage routes a request that is not for the API.
func (s *Server) servePage(ctx *fasthttp.RequestCtx) {
	p := string(ctx.Path())
	get := []string{http.MethodGet, http.MethodHead}
	switch {
	case p == "/":
		s.page(ctx, get, s.pageHome)
	case p == "/image":
		s.page(ctx, []string{http.MethodGet, http.MethodHead, http.MethodPost}, s.pageImage)
	case p == "/upload_image":
		s.page(ctx, []string{http.MethodGet, http.MethodHead, http.MethodPost}, s.pageUpload)
	case p == "/keys_list":
		s.page(ctx, get, s.pageKeys)
	case p == "/cache_properties":
		s.page(ctx, []string{http.MethodGet, http.MethodHead, http.MethodPost}, s.pageProperties)
	case p == "/cache_properties/clear":
		s.page(ctx, []string{http.MethodPost}, s.pageClear)
	case p == "/cache_stats":
		s.page(ctx, get, s.pageStats)
	case strings.HasPrefix(p, chartPrefix):
		s.page(ctx, get, s.pageChart)
	case strings.HasPrefix(p, staticPrefix):
		s.page(ctx, get, s.serveStatic)
	default:
		s.pageError(ctx, envelope.Errorf(http.StatusNotFound, "There is no page at %q.", p))
	}
}

// page checks the method and runs h, answering its error as an error page.
func (s *Server) page(rc *fasthttp.RequestCtx, methods []string, h handler) {
	if !allowed(rc, methods) {
		s.pageError(rc, envelope.Errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s; use %s.",
			rc.Method(), rc.Path(), strings.Join(methods, " or ")))
		return
	}
	ctx, done := s.requestContext()
	defer done()
	if err := h(ctx, rc); err != nil {
		s.pageError(rc, err)
	}
}

// failure maps err to a status and a message for the page, as the API does: 5xx causes are logged, and
// a 500's message is replaced so that nothing internal reaches the browser.
func (s *Server) failure(ctx *fasthttp.RequestCtx, err error) (int, string) {
	code, msg := envelope.Status(httpError(err))
	if code >= 500 {
		s.log.Error("page failed", "method", string(ctx.Method()), "path", string(ctx.Path()), "status", code, "err", err)
	}
	if code == http.StatusInternalServerError {
		msg = internalMessage
	}
	// The API's messages start in lower case, to follow other text; on a page each stands alone.
	if r, n := utf8.DecodeRuneInString(msg); unicode.IsLower(r) {
		msg = string(unicode.ToUpper(r)) + msg[n:]
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
func (s *Server) pageError(ctx *fasthttp.RequestCtx, err error) {
	code, msg := s.failure(ctx, err)
	if string(ctx.Path()) == "/upload_image" && ctx.IsPost() {
		s.render(ctx, code, "upload", s.uploadPage(msg))
		return
	}
	title := strconv.Itoa(code) + " " + http.StatusText(code)
	s.render(ctx, code, "error", &errorPage{chrome: chrome{Title: title, Error: msg}, Code: code})
}

// render executes a page into a buffer first, so that a template failure becomes a clean 500.
func (s *Server) render(ctx *fasthttp.RequestCtx, status int, name string, data pageData) {
	data.page().CacheDown = s.cacheDown.Load()
	var buf bytes.Buffer
	err := s.pages.tmpl[name].ExecuteTemplate(&buf, "layout", data)
	if err != nil {
		s.log.Error("render page", "page", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		if err := s.pages.tmpl["error"].ExecuteTemplate(&buf, "layout", &errorPage{
			chrome: chrome{Title: "500 Internal Server Error", Error: internalMessage}, Code: status,
		}); err != nil {
			buf.Reset()
			buf.WriteString(fallbackPage)
		}
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	pageHeaders(ctx)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(buf.Bytes())
}

func pageHeaders(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// seeOther ends a successful form post: the browser loads target with GET, so reloading the result
// does not post again.
func seeOther(ctx *fasthttp.RequestCtx, target string) {
	ctx.Response.Header.Set("Location", target)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(http.StatusSeeOther)
}

// liveStats asks the memcache for its current figures, briefly; ok is false when it did not answer.
func (s *Server) liveStats(ctx context.Context) (st memcache.Stats, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, liveStatsTimeout)
	defer cancel()
	st, err := s.cache.Stats(ctx)
	if err != nil {
		s.noteCacheErr(err)
		return st, false
	}
	s.noteCacheOK()
	return st, true
}

// formValues reads the named fields of a POST body, url-encoded or multipart.
func formValues(ctx *fasthttp.RequestCtx, names ...string) (map[string]string, error) {
	out := map[string]string{}
	if bytes.HasPrefix(ctx.Request.Header.ContentType(), []byte("multipart/form-data")) {
		fields, _, err := readForm(ctx)
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
	args := ctx.PostArgs()
	for _, n := range names {
		if args.Has(n) {
			out[n] = string(args.Peek(n))
		}
	}
	return out, nil
}

// shownKey is a key as echoed back into a page: valid UTF-8 without control characters. The template
// escapes it; this only keeps a bad key's bytes from making the page itself malformed.
func shownKey(key string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return unicode.ReplacementChar
		}
		return r
	}, strings.ToValidUTF8(key, "\uFFFD"))
}

// --- home ---

type homePage struct {
	chrome
	Keys     int
	LiveOK   bool
	Live     memcache.Stats
	HitRate  string
	Capacity string
}

func (s *Server) pageHome(ctx context.Context, rc *fasthttp.RequestCtx) error {
	n, err := s.store.CountImages(ctx)
	if err != nil {
		return s.dbError("count keys", err)
	}
	live, ok := s.liveStats(ctx)
	p := &homePage{chrome: chrome{Title: "imgcache", Active: "/"}, Keys: n, LiveOK: ok, Live: live}
	if ok {
		p.HitRate = rate(live.Hits, live.Gets, "no lookups yet")
		p.Capacity = capacityText(live.CapacityMB)
	}
	s.render(rc, http.StatusOK, "home", p)
	return nil
}

// --- image ---

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
}

func (s *Server) pageImage(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if rc.IsPost() {
		// The original posted the key; a GET URL can be bookmarked and reloaded, so redirect to it.
		v, err := formValues(rc, "key")
		if err != nil {
			return err
		}
		seeOther(rc, "/image?key="+url.QueryEscape(v["key"]))
		return nil
	}
	p := &imagePage{chrome: chrome{Title: "View image", Active: "/image"}}
	args := rc.QueryArgs()
	if !args.Has("key") {
		s.liveStats(ctx) // for the banner
		s.render(rc, http.StatusOK, "image", p)
		return nil
	}
	key := string(args.Peek("key"))
	p.Key = shownKey(key)
	img, err := s.Read(ctx, key, nil)
	if err != nil {
		code, msg := s.failure(rc, err)
		p.Error = msg
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

// --- upload ---

type uploadPage struct {
	chrome
	Key       string
	MaxUpload int64
}

func (s *Server) uploadPage(errMsg string) *uploadPage {
	return &uploadPage{chrome: chrome{Title: "Upload an image", Active: "/upload_image", Error: errMsg}, MaxUpload: int64(s.cfg.MaxUpload)}
}

func (s *Server) pageUpload(ctx context.Context, rc *fasthttp.RequestCtx) error {
	p := s.uploadPage("")
	if !rc.IsPost() {
		s.liveStats(ctx) // for the banner
		s.render(rc, http.StatusOK, "upload", p)
		return nil
	}
	fail := func(err error) error {
		code, msg := s.failure(rc, err)
		p.Error = msg
		s.render(rc, code, "upload", p)
		return nil
	}
	fields, files, err := readForm(rc)
	if err != nil {
		return fail(err)
	}
	key := fields["key"]
	p.Key = shownKey(key)
	if err := CheckKey(key); err != nil {
		return fail(err)
	}
	data, ok := files["file"]
	if !ok {
		// A browser sends an empty file field, without a file name, when no file was chosen.
		return fail(envelope.Errorf(http.StatusBadRequest, "Choose an image file to upload."))
	}
	if err := s.Upload(ctx, key, data); err != nil {
		return fail(err)
	}
	seeOther(rc, "/image?key="+url.QueryEscape(key)+"&uploaded=1")
	return nil
}

// --- keys ---

type keysPage struct {
	chrome
	Keys   []database.Image
	Total  int64
	LiveOK bool
	Cached int
}

func (s *Server) pageKeys(ctx context.Context, rc *fasthttp.RequestCtx) error {
	imgs, err := s.Keys(ctx)
	if err != nil {
		return err
	}
	p := &keysPage{chrome: chrome{Title: "Keys", Active: "/keys_list"}, Keys: imgs}
	for _, img := range imgs {
		p.Total += img.Size
	}
	live, ok := s.liveStats(ctx)
	p.LiveOK, p.Cached = ok, live.Items
	s.render(rc, http.StatusOK, "keys", p)
	return nil
}

// --- cache properties ---

// policyOption is a choice of the policy form field: Value is what the form posts.
type policyOption struct{ Value, Label string }

var policyOptions = []policyOption{
	{"LRU", "Least Recently Used (LRU)"},
	{"Random", "Random Replacement"},
}

// shortPolicy is the form value of a policy.
func shortPolicy(p cache.Policy) string {
	if p == cache.Random {
		return "Random"
	}
	return "LRU"
}

type propertiesPage struct {
	chrome
	Stored   bool // a cache_properties row exists; otherwise Current holds the memcache's defaults
	Current  database.CacheProperties
	LiveOK   bool
	Live     memcache.Stats
	Capacity string // the form's values
	Policy   string
	MaxMB    int
	Options  []policyOption
}

// Flash messages of the properties page, chosen by a query parameter after a redirect: fixed texts, so
// the URL cannot put words on the page.
var propertiesFlash = map[string]string{
	"saved=1":       "Saved. The cache applied the new settings.",
	"saved=pending": "Saved, but the cache could not be told: it is unreachable. It reads the newest settings when it starts, so it will apply these when it restarts.",
	"cleared=1":     "The cache was cleared.",
}

func (s *Server) pageProperties(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if rc.IsPost() {
		return s.setProperties(ctx, rc)
	}
	p := &propertiesPage{}
	for _, param := range []string{"saved", "cleared"} {
		if v := rc.QueryArgs().Peek(param); v != nil {
			p.Flash = propertiesFlash[param+"="+string(v)]
		}
	}
	if err := s.loadProperties(ctx, p); err != nil {
		return err
	}
	s.render(rc, http.StatusOK, "properties", p)
	return nil
}

// loadProperties fills the page's current settings, and the form with them where it is empty.
func (s *Server) loadProperties(ctx context.Context, p *propertiesPage) error {
	p.Title, p.Active, p.MaxMB, p.Options = "Cache properties", "/cache_properties", s.cfg.MaxCapacityMB, policyOptions
	cur, err := s.store.LatestCacheProperties(ctx)
	switch {
	case errors.Is(err, database.ErrNotFound):
		cur = database.CacheProperties{MaxCapacityMB: memcache.DefaultCapacityMB, Policy: memcache.DefaultPolicy.String()}
	case err != nil:
		return s.dbError("read cache properties", err)
	default:
		p.Stored = true
	}
	p.Current = cur
	if p.Capacity == "" && p.Policy == "" {
		p.Capacity = strconv.Itoa(cur.MaxCapacityMB)
		if pol, err := cache.ParsePolicy(cur.Policy); err == nil {
			p.Policy = shortPolicy(pol)
		}
	}
	p.Live, p.LiveOK = s.liveStats(ctx)
	return nil
}

// parseProperties validates the form: a whole number of MB from 0 to max, and a known policy.
func parseProperties(capacity, policy string, max int) (int, cache.Policy, error) {
	var problems []string
	capacity, policy = strings.TrimSpace(capacity), strings.TrimSpace(policy)
	mb, err := strconv.Atoi(capacity)
	switch {
	case capacity == "":
		problems = append(problems, fmt.Sprintf("Enter a capacity: a whole number of MB from 0 to %d.", max))
	case errors.Is(err, strconv.ErrRange) || err == nil && (mb < 0 || mb > max):
		problems = append(problems, fmt.Sprintf("The capacity must be from 0 to %d MB; %q is out of range.", max, capacity))
	case err != nil:
		problems = append(problems, fmt.Sprintf("The capacity must be a whole number of MB from 0 to %d; %q is not.", max, capacity))
	}
	pol, err := cache.ParsePolicy(policy)
	switch {
	case policy == "":
		problems = append(problems, "Choose a replacement policy: LRU or Random.")
	case err != nil:
		problems = append(problems, fmt.Sprintf("Unknown replacement policy %q: choose LRU (Least Recently Used) or Random (Random Replacement).", policy))
	}
	if problems != nil {
		return 0, 0, envelope.Errorf(http.StatusBadRequest, "%s", strings.Join(problems, " "))
	}
	return mb, pol, nil
}

// setProperties writes a cache_properties row and asks the memcache to apply it. When the memcache is
// unreachable the row stays written: the memcache reads the newest row when it starts.
func (s *Server) setProperties(ctx context.Context, rc *fasthttp.RequestCtx) error {
	v, err := formValues(rc, "capacity", "policy")
	if err != nil {
		return err
	}
	mb, pol, err := parseProperties(v["capacity"], v["policy"], s.cfg.MaxCapacityMB)
	if err != nil {
		p := &propertiesPage{Capacity: shownKey(v["capacity"]), Policy: shownKey(v["policy"])}
		if err := s.loadProperties(ctx, p); err != nil {
			return err
		}
		code, msg := s.failure(rc, err)
		p.Error = msg
		s.render(rc, code, "properties", p)
		return nil
	}
	if _, err := s.store.InsertCacheProperties(ctx, database.CacheProperties{MaxCapacityMB: mb, Policy: pol.String()}); err != nil {
		return s.dbError("write cache properties", err)
	}
	if err := s.cache.Refresh(ctx); err != nil {
		s.noteCacheErr(err)
		s.log.Warn("cache properties saved but not applied: the memcache will read them when it starts", "capacity_mb", mb, "policy", pol.String(), "err", err)
		seeOther(rc, "/cache_properties?saved=pending")
		return nil
	}
	s.noteCacheOK()
	seeOther(rc, "/cache_properties?saved=1")
	return nil
}

func (s *Server) pageClear(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if err := s.cache.Clear(ctx); err != nil {
		s.noteCacheErr(err)
		s.log.Warn("clear cache failed", "err", err)
		p := &propertiesPage{chrome: chrome{Error: "The cache is unreachable, so it was not cleared. Try again when it is back."}}
		if err := s.loadProperties(ctx, p); err != nil {
			return err
		}
		s.render(rc, http.StatusServiceUnavailable, "properties", p)
		return nil
	}
	s.noteCacheOK()
	seeOther(rc, "/cache_properties?cleared=1")
	return nil
}

// --- cache statistics ---

// figure is one labelled number of the statistics page.
type figure struct{ Label, Value string }

// chartRef is one chart of the statistics page.
type chartRef struct {
	Title, URL    string
	Width, Height int
}

type statsPage struct {
	chrome
	HasData bool
	Rows    int
	Newest  time.Time
	Recent  []figure // from the cache_stats rows
	Live    []figure // from the memcache's /stats, when it answers
	LiveOK  bool
	Charts  []chartRef
	Span    string // "10 minutes"
	Bucket  string // "30 seconds"
}

// statsPoints reads the rows of the window ending at now.
func (s *Server) statsPoints(ctx context.Context, now time.Time) ([]statschart.Point, error) {
	rows, err := s.store.StatsSince(ctx, now.Add(-statschart.DefaultSpan))
	if err != nil {
		return nil, s.dbError("read cache statistics", err)
	}
	points := make([]statschart.Point, len(rows))
	for i, r := range rows {
		points[i] = statschart.Point{At: r.CreatedAt, Items: r.KeyCount, Bytes: r.CacheSize,
			Requests: r.RequestCount, Hits: r.HitCount, Misses: r.MissCount}
	}
	return points, nil
}

func chartPixels(l vg.Length) int { return int(math.Round(float64(l / vg.Inch * chartDPI))) }

func (s *Server) pageStats(ctx context.Context, rc *fasthttp.RequestCtx) error {
	now := time.Now()
	points, err := s.statsPoints(ctx, now)
	if err != nil {
		return err
	}
	win := statschart.LastWindow(now)
	p := &statsPage{chrome: chrome{Title: "Cache statistics", Active: "/cache_stats"},
		HasData: len(points) > 0, Rows: len(points), Span: durationText(win.To.Sub(win.From)), Bucket: durationText(win.Bucket)}
	sum := statschart.Summarize(points, now)
	p.Newest = sum.At
	if p.HasData {
		mins := durationText(sum.Span)
		if sum.Span == time.Minute {
			mins = "minute"
		}
		p.Recent = []figure{
			{"Items in the cache", strconv.FormatInt(sum.Items, 10)},
			{"Total size of the items", humanSize(sum.Bytes)},
			{"Requests served in the last " + mins, fmt.Sprintf("%d (%.2f per second)", sum.Requests, sum.RequestsPerSecond())},
			{"Hit rate in the last " + mins, percent(sum.HitRate(), "no lookups")},
			{"Miss rate in the last " + mins, percent(sum.MissRate(), "no lookups")},
		}
	}
	live, ok := s.liveStats(ctx)
	p.LiveOK = ok
	if ok {
		p.Live = []figure{
			{"Items in the cache", strconv.Itoa(live.Items)},
			{"Total size of the items", humanSize(live.Bytes)},
			{"Capacity", capacityText(live.CapacityMB)},
			{"Replacement policy", live.Policy},
			{"Lookups since the cache started", strconv.FormatUint(live.Gets, 10)},
			{"Hits / misses", fmt.Sprintf("%d / %d", live.Hits, live.Misses)},
			{"Hit rate since the cache started", rate(live.Hits, live.Gets, "no lookups yet")},
			{"Miss rate since the cache started", rate(live.Misses, live.Gets, "no lookups yet")},
			{"Evictions", strconv.FormatUint(live.Evictions, 10)},
		}
	}
	for _, c := range statschart.Charts() {
		p.Charts = append(p.Charts, chartRef{Title: c.String(), URL: chartPrefix + c.Slug() + ".png",
			Width: chartPixels(statschart.Width), Height: chartPixels(statschart.Height)})
	}
	s.render(rc, http.StatusOK, "stats", p)
	return nil
}

// pageChart draws one chart of the statistics page as a PNG of the last 10 minutes.
func (s *Server) pageChart(ctx context.Context, rc *fasthttp.RequestCtx) error {
	name := strings.TrimPrefix(string(rc.Path()), chartPrefix)
	slug, isPNG := strings.CutSuffix(name, ".png")
	c, err := statschart.ParseChart(slug)
	if !isPNG || err != nil {
		return envelope.Errorf(http.StatusNotFound, "There is no chart %q.", name)
	}
	now := time.Now()
	points, err := s.statsPoints(ctx, now)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := statschart.WritePNG(&buf, c, points, statschart.LastWindow(now)); err != nil {
		return err
	}
	rc.SetContentType("image/png")
	rc.Response.Header.Set("Cache-Control", "no-store")
	rc.Response.Header.Set("X-Content-Type-Options", "nosniff")
	rc.SetBody(buf.Bytes())
	return nil
}

// --- static files ---

// serveStatic answers an embedded asset. Its URL carries a version that changes with the content, so
// browsers may keep it for a year.
func (s *Server) serveStatic(_ context.Context, rc *fasthttp.RequestCtx) error {
	name := strings.TrimPrefix(string(rc.Path()), staticPrefix)
	f, ok := s.pages.static[name]
	if !ok {
		return envelope.Errorf(http.StatusNotFound, "There is no file %q.", string(rc.Path()))
	}
	rc.SetContentType(f.contentType)
	rc.Response.Header.Set("Cache-Control", "public, max-age=31536000, immutable")
	rc.Response.Header.Set("X-Content-Type-Options", "nosniff")
	rc.SetBody(f.body)
	return nil
}

// --- formatting ---

// humanSize writes a byte count in binary units, as the cache's capacity is stated (1 MB = 2^20 bytes).
func humanSize(n int64) string {
	if n < 1024 {
		if n == 1 {
			return "1 byte"
		}
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"KB", "MB", "GB", "TB"}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + " " + units[i]
}

// byteCount writes an exact byte count with thousands separators.
func byteCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// rate writes n/d as a percentage, or none when d is zero.
func rate(n, d uint64, none string) string {
	if d == 0 {
		return none
	}
	return percent(float64(n)/float64(d), none)
}

// percent writes a ratio in [0, 1] as a percentage, or none for NaN.
func percent(r float64, none string) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return none
	}
	return strconv.FormatFloat(100*r, 'f', 1, 64) + "%"
}

func capacityText(mb int64) string {
	if mb == 0 {
		return "0 MB (caching is off)"
	}
	return strconv.FormatInt(mb, 10) + " MB"
}

// durationText writes a whole number of minutes or seconds in words.
func durationText(d time.Duration) string {
	unit, n := "second", d/time.Second
	if d%time.Minute == 0 {
		unit, n = "minute", d/time.Minute
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.FormatInt(int64(n), 10) + " " + unit
}
