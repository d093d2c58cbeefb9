package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"imgcache/app/apptest"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"imgcache/app"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// These tests drive the six pages with a real headless Chromium, as a person at a browser would. They
// skip when no Chromium is installed, unless IMGCACHE_REQUIRE_BROWSER=1 (as in CI) makes that a
// failure. Every page they reach is saved as a PNG under $IMGCACHE_ARTIFACTS/browser (under a
// temporary directory when that is unset), so a reviewer can look at the pages without running them.

const (
	// browserTimeout bounds one test: starting Chromium, every page and every check. Generous: the
	// widest test takes some 25 full-page screenshots at 1280 px, about a minute under -race on a
	// busy machine.
	browserTimeout = 3 * time.Minute

	// browserRequireEnv turns "no Chromium" from a skip into a failure.
	browserRequireEnv = "IMGCACHE_REQUIRE_BROWSER"

	// browserArtifactsEnv names the folder the screenshots go under.
	browserArtifactsEnv = "IMGCACHE_ARTIFACTS"

	// browserNavColor is the header's background in the stylesheet (--nav): seeing it proves the CSS applied.
	browserNavColor = "rgb(35, 48, 61)"
)

// chromiumNames are the executables looked for on PATH, in order.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// findChromium returns the browser's path, or skips (fails under IMGCACHE_REQUIRE_BROWSER=1) when none
// is installed.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("browser tests need Chromium, and none of %s is on PATH; install Debian's chromium package (.ci/run does)",
		strings.Join(chromiumNames, ", "))
	if os.Getenv(browserRequireEnv) == "1" {
		t.Fatalf("%s (%s=1 makes this a failure)", msg, browserRequireEnv)
	}
	t.Skipf("%s; set %s=1 to make this a failure", msg, browserRequireEnv)
	return ""
}

// browserArtifactsDir is the folder a test's screenshots go to; the test log says where.
func browserArtifactsDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv(browserArtifactsEnv)
	if base == "" {
		base = t.TempDir()
	}
	dir := filepath.Join(base, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	t.Logf("screenshots of %s go to %s", t.Name(), dir)
	return dir
}

// chromiumOutput collects Chromium's output, which another goroutine writes.
type chromiumOutput struct{ apptest.SyncBuffer }

// tail returns the last n bytes written, where a crash's reason is, without the complaints about the
// missing D-Bus that a headless Chromium in a container always makes.
func (l *chromiumOutput) tail(n int) string {
	var b strings.Builder
	for line := range strings.Lines(l.String()) {
		if !strings.Contains(line, ":ERROR:dbus/") {
			b.WriteString(line)
		}
	}
	s := b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// browser is one Chromium tab on one stack, for one test. Its methods take the (sub)test to fail.
type browser struct {
	ctx  context.Context // the tab; ends at browserTimeout
	base string          // the backend's URL
	dir  string          // screenshots
	name string          // the top-level test, to name screenshots
	shot int             // screenshots taken, to number them in order

	mu       sync.Mutex
	problems []string // console errors: CSP violations, failed loads
}

// newBrowser starts the stack on dsn and a headless Chromium for it; it skips first if there is no
// Chromium. Both are stopped, and Chromium's profile removed, when the test ends.
func newBrowser(t *testing.T, dsn string) (*browser, *apptest.Stack) {
	t.Helper()
	return newBrowserWith(t, dsn, nil)
}

// newBrowserWith is newBrowser over a backend whose config mutate adjusts.
func newBrowserWith(t *testing.T, dsn string, mutate func(*app.Config)) (*browser, *apptest.Stack) {
	t.Helper()
	exe := findChromium(t)
	st := startStack(t, dsn, mutate)
	dir := browserArtifactsDir(t)
	profile := t.TempDir() // a fresh profile; registered first, so removed after Chromium has exited

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	out := &chromiumOutput{}
	// As root Chromium needs --no-sandbox. The networking flags keep it from calling Google for updates
	// and the like: the closed test network refuses that, and nothing but the backend is under test.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.CombinedOutput(out),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(allocCancel) // waits until Chromium has exited
	tab, tabCancel := chromedp.NewContext(allocCtx)
	t.Cleanup(tabCancel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Chromium output (end):\n%s", out.tail(4000))
		}
	})

	b := &browser{ctx: tab, base: st.Backend.URL(), dir: dir, name: t.Name()}
	// The first action starts Chromium. Then the Log domain reports what the console would show: CSP
	// violations and resources that failed to load.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	if err := chromedp.Listen(tab, b.onEvent); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
		return err
	}))
	if err != nil {
		t.Fatalf("enable the Log domain: %v", err)
	}
	t.Cleanup(func() { b.checkConsole(t) })
	return b, st
}

// onEvent runs on chromedp's reader goroutine, so it only records.
func (b *browser) onEvent(ev any) {
	e, ok := ev.(*cdplog.EventEntryAdded)
	if !ok || e.Entry == nil || e.Entry.Level != cdplog.EntryLevelError {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL))
}

// forgetConsole drops the console errors logged so far that contain want: those a test provoked on
// purpose (a refused request is a failed load). It fails the test if none does.
func (b *browser) forgetConsole(t *testing.T, want ...string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.problems[:0]
	found := map[string]bool{}
	for _, p := range b.problems {
		matched := false
		for _, w := range want {
			if strings.Contains(p, w) {
				matched, found[w] = true, true
			}
		}
		if !matched {
			kept = append(kept, p)
		}
	}
	b.problems = kept
	for _, w := range want {
		if !found[w] {
			t.Errorf("no console error contains %q", w)
		}
	}
}

// checkConsole fails the test if any page logged an error to the console.
func (b *browser) checkConsole(t *testing.T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("console error: %s", p)
	}
}

// do runs actions in the tab.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// follow runs actions that load a page (a click on a link or a submit button) and waits until that
// page has loaded. It returns the page's status: after a 303, that of the page redirected to.
func (b *browser) follow(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, actions...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return resp.Status
}

// open loads path by its URL, waits for its load event, and checks that it answered 200.
func (b *browser) open(t *testing.T, path string) {
	t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if resp.Status != 200 {
		t.Errorf("GET %s: status %d, want 200", path, resp.Status)
	}
}

// checkAt checks that the page shown now is want: the same path and the same query values, however
// they are escaped (html/template writes %2f and %20 where url.QueryEscape writes %2F and +).
func (b *browser) checkAt(t *testing.T, after, want string) {
	t.Helper()
	got := browserEval[string](t, b, `location.pathname + location.search`)
	g, err1 := url.Parse(got)
	w, err2 := url.Parse(want)
	if err1 != nil || err2 != nil || g.Path != w.Path || !reflect.DeepEqual(g.Query(), w.Query()) {
		t.Errorf("after %s: at %s, want %s", after, got, want)
	}
}

// browserEval runs a JavaScript expression. DevTools evaluation is not bound by the pages' CSP, which
// forbids scripts of their own.
func browserEval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// texts is the rendered text of every element sel matches now, whitespace collapsed.
func (b *browser) texts(t *testing.T, sel string) []string {
	t.Helper()
	return browserEval[[]string](t, b, fmt.Sprintf(
		`Array.from(document.querySelectorAll(%q), e => e.innerText.replace(/\s+/g, " ").trim())`, sel))
}

// text is the rendered text of the one element sel matches.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	got := b.texts(t, sel)
	if len(got) != 1 {
		t.Fatalf("%s matches %d elements %q, want 1", sel, len(got), got)
	}
	return got[0]
}

// facts reads a <dl> of label/value pairs, as the pages show figures.
func (b *browser) facts(t *testing.T, sel string) map[string]string {
	t.Helper()
	return browserEval[map[string]string](t, b, fmt.Sprintf(`Object.fromEntries(Array.from(
		document.querySelectorAll(%q), d => [d.querySelector("dt").innerText.trim(), d.querySelector("dd").innerText.replace(/\s+/g, " ").trim()]))`,
		sel+" > div"))
}

// screenshot saves the whole page as Test-NN-name.png in the artifact folder.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	data, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	b.shot++
	file := filepath.Join(b.dir, fmt.Sprintf("%s-%02d-%s.png", browserFileSafe.ReplaceAllString(b.name, "_"), b.shot, name))
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
}

var browserFileSafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// browserImage is what the browser knows of one <img>.
type browserImage struct {
	Src      string `json:"src"`
	Complete bool   `json:"complete"`
	Natural  [2]int `json:"natural"` // the decoded image's size; 0 when it did not load
	Attr     [2]int `json:"attr"`    // the width and height attributes; 0 when absent
}

// images reports every <img> that sel matches. The load event, which navigation waits for, waits for
// the images too, so each has loaded or failed by now.
func (b *browser) images(t *testing.T, sel string) []browserImage {
	t.Helper()
	return browserEval[[]browserImage](t, b, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), i => ({
		src: i.getAttribute("src").slice(0, 60), complete: i.complete,
		natural: [i.naturalWidth, i.naturalHeight],
		attr: [+i.getAttribute("width") || 0, +i.getAttribute("height") || 0]}))`, sel))
}

// checkPage checks what every page has: the heading, the highlighted navigation link, the stylesheet,
// no cache-down banner, and no broken images.
func (b *browser) checkPage(t *testing.T, h1, active string) {
	t.Helper()
	if got := b.text(t, "main h1"); got != h1 {
		t.Errorf("h1 = %q, want %q", got, h1)
	}
	if got, want := b.texts(t, `nav a[aria-current="page"]`), []string{browserNavLabels[active]}; !slices.Equal(got, want) {
		t.Errorf("highlighted navigation links = %q, want %q", got, want)
	}
	if got := browserEval[string](t, b, `getComputedStyle(document.querySelector("header")).backgroundColor`); got != browserNavColor {
		t.Errorf("header background = %s, want %s: the stylesheet did not apply", got, browserNavColor)
	}
	if got := b.texts(t, ".notice.warn"); len(got) != 0 {
		t.Errorf("cache-down banner shown while the cache is up: %q", got)
	}
	b.loadImages(t) // lazy ones too, which the load event does not wait for
	for _, img := range b.images(t, "img") {
		if !img.Complete || img.Natural[0] == 0 {
			t.Errorf("image %s did not load (complete %v, naturalWidth %d)", img.Src, img.Complete, img.Natural[0])
		}
	}
}

// browserNavLabels are the navigation bar's link texts by path.
var browserNavLabels = map[string]string{
	"/":                 "Home",
	"/image":            "View image",
	"/upload_image":     "Upload",
	"/keys_list":        "Keys",
	"/pool":             "Memcache pool",
	"/cache_properties": "Cache properties",
	"/cache_stats":      "Cache statistics",
	"/reports":          "Benchmarks",
}

// browserPicture is a PNG large enough to see in a screenshot: a gradient with a dark frame.
func browserPicture(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{R: uint8(255 * x / w), G: uint8(255 * y / h), B: 160, A: 255}
			if x < 3 || y < 3 || x >= w-3 || y >= h-3 {
				c = color.NRGBA{R: 30, G: 30, B: 30, A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// browserCacheStats asks the memcache for its figures directly, to see what a page did to it.

// browserUpload stores an image through the JSON API, for tests about other pages.
func browserUpload(t *testing.T, st *apptest.Stack, key string, data []byte) {
	t.Helper()
	body, ct := apptest.MultipartBody(t, map[string]string{"key": key}, "img.png", data)
	if code, resp := apptest.Do(t, "POST", st.Backend.URL()+"/api/upload", ct, body); code != 200 {
		t.Fatalf("upload %q: status %d: %s", key, code, resp)
	}
}

// TestBrowserPages visits all six pages through the navigation bar, as a person would, and checks
// each one's title, heading, highlighted link, stylesheet and images.
func TestBrowserPages(t *testing.T) {
	b, st := newBrowser(t, dbtest.DSN(t, database.SQLite))
	browserUpload(t, st, "kitten", browserPicture(t, 200, 150))

	pages := []struct {
		name, path, title, h1 string
	}{
		{"home", "/", "imgcache", "imgcache"},
		{"image", "/image", "View image · imgcache", "View image"},
		{"upload", "/upload_image", "Upload an image · imgcache", "Upload an image"},
		{"keys", "/keys_list", "Keys · imgcache", "Keys"},
		{"properties", "/cache_properties", "Cache properties · imgcache", "Cache properties"},
		{"stats", "/cache_stats", "Cache statistics · imgcache", "Cache statistics"},
	}
	b.open(t, "/cache_stats") // start elsewhere, so that even Home is reached by its link
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			link := fmt.Sprintf(`nav a[href=%q]`, p.path)
			if got := b.follow(t, "click "+link, chromedp.Click(chromedp.CSS(link), chromedp.NodeVisible)); got != 200 {
				t.Errorf("%s: status %d, want 200", p.path, got)
			}
			b.checkAt(t, "clicking "+link, p.path)
			if got, err := chromedp.Run(b.ctx, chromedp.Title()); err != nil || got != p.title {
				t.Errorf("title = %q (err %v), want %q", got, err, p.title)
			}
			b.checkPage(t, p.h1, p.path)
			b.screenshot(t, p.name)
		})
	}
}

// TestBrowserUploadViewList uploads an image through the form's real file input, views it by key, and
// finds it in the list of keys.
func TestBrowserUploadViewList(t *testing.T) {
	b, _ := newBrowser(t, dbtest.DSN(t, database.SQLite))
	// A key with a space, a slash and a non-ASCII letter: it must survive the form, the redirect's
	// query string and the keys list's link.
	const key = "holiday/beach ü 1"
	const w, h = 240, 160
	file := filepath.Join(t.TempDir(), "beach.png")
	if err := os.WriteFile(file, browserPicture(t, w, h), 0o644); err != nil {
		t.Fatal(err)
	}
	imageURL := "/image?key=" + url.QueryEscape(key)

	t.Run("upload", func(t *testing.T) {
		b.open(t, "/upload_image")
		b.do(t, "fill the upload form",
			chromedp.SendKeys(chromedp.ID("key"), key),
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
		)
		if got := browserEval[string](t, b, `document.getElementById("key").value`); got != key {
			t.Fatalf("typed key = %q, want %q", got, key)
		}
		b.screenshot(t, "upload-filled")
		if got := b.follow(t, "submit the upload", chromedp.Click(chromedp.CSS(`form button[type=submit]`), chromedp.NodeVisible)); got != 200 {
			t.Errorf("upload: status %d after the redirect, want 200", got)
		}
		b.checkAt(t, "upload", imageURL+"&uploaded=1")
		if got, want := b.text(t, ".notice.ok"), "Uploaded. This is the image now stored under the key."; got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		b.checkImage(t, key, w, h)
		b.screenshot(t, "uploaded")
	})

	t.Run("view by key", func(t *testing.T) {
		b.open(t, "/image")
		b.do(t, "type the key", chromedp.SendKeys(chromedp.ID("key"), key))
		if got := b.follow(t, "click Show", chromedp.Click(chromedp.CSS(`form button[type=submit]`), chromedp.NodeVisible)); got != 200 {
			t.Errorf("view: status %d, want 200", got)
		}
		b.checkAt(t, "Show", imageURL)
		facts := b.checkImage(t, key, w, h)
		// The upload's read-back filled the cache, so this read is a hit.
		if got, want := facts["Served"], "from cache"; got != want {
			t.Errorf("Served = %q, want %q", got, want)
		}
		b.checkPage(t, "View image", "/image")
		b.screenshot(t, "viewed")
	})

	t.Run("keys list", func(t *testing.T) {
		b.open(t, "/keys_list")
		b.checkPage(t, "Keys", "/keys_list")
		rows := browserEval[[][]string](t, b, `Array.from(document.querySelectorAll("tbody tr"), r => Array.from(r.cells, c => c.innerText.trim()))`)
		if len(rows) != 1 || len(rows[0]) != 6 || rows[0][1] != key || rows[0][3] != "image/png" {
			t.Fatalf("keys table rows = %q, want one row for %q, image/png", rows, key)
		}
		if got := b.text(t, "main > p.summary"); !strings.HasPrefix(got, "1 key, ") {
			t.Errorf("summary = %q, want it to start %q", got, "1 key, ")
		}
		b.screenshot(t, "keys")
		if got := b.follow(t, "click the key", chromedp.Click(chromedp.CSS(`tbody td.key a`), chromedp.NodeVisible)); got != 200 {
			t.Errorf("key link: status %d, want 200", got)
		}
		b.checkAt(t, "clicking the key", imageURL)
		b.checkImage(t, key, w, h)
	})
}

// checkImage checks the image page showing key: its heading, facts and the image itself, decoded by
// the browser at its full size. It returns the facts.
func (b *browser) checkImage(t *testing.T, key string, w, h int) map[string]string {
	t.Helper()
	if got := b.text(t, "section.image h2"); got != key {
		t.Errorf("image heading = %q, want %q", got, key)
	}
	facts := b.facts(t, "section.image dl.facts")
	if got, want := facts["Type"], "image/png"; got != want {
		t.Errorf("Type = %q, want %q", got, want)
	}
	if got, want := facts["Dimensions"], fmt.Sprintf("%d × %d pixels", w, h); got != want {
		t.Errorf("Dimensions = %q, want %q", got, want)
	}
	if s := facts["Served"]; s != "from cache" && s != "from disk" {
		t.Errorf("Served = %q, want from cache or from disk", s)
	}
	imgs := b.images(t, "img.shown")
	if len(imgs) != 1 {
		t.Fatalf("found %d img.shown, want 1", len(imgs))
	}
	if got, want := imgs[0].Natural, [2]int{w, h}; got != want {
		t.Errorf("shown image decodes to %v, want %v (complete %v)", got, want, imgs[0].Complete)
	}
	if !strings.HasPrefix(imgs[0].Src, "data:image/png;base64,") {
		t.Errorf("shown image src = %q…, want a data:image/png URL", imgs[0].Src)
	}
	return facts
}

// TestBrowserCacheProperties changes the capacity and the policy through the form, then clears the
// cache, and checks both on the page and at the memcache itself.
func TestBrowserCacheProperties(t *testing.T) {
	b, st := newBrowser(t, dbtest.DSN(t, database.SQLite))
	for i, key := range []string{"one", "two", "three"} {
		browserUpload(t, st, key, apptest.PNGImage(t, i))
		if code, body := apptest.Do(t, "POST", st.Backend.URL()+"/api/key/"+key, "", nil); code != 200 {
			t.Fatalf("read %q: status %d: %s", key, code, body)
		}
	}
	before := apptest.CacheStats(t, st)
	if before.Items == 0 {
		t.Fatalf("memcache holds no items after reads, so clearing could not be seen")
	}
	const capacity, policy, policyName = 64, "Random", "Random Replacement"
	if before.CapacityMB == capacity || before.Policy == policyName {
		t.Fatalf("memcache already has capacity %d MB or policy %s: pick other values", before.CapacityMB, before.Policy)
	}

	t.Run("change", func(t *testing.T) {
		b.open(t, "/cache_properties")
		b.checkPage(t, "Cache properties", "/cache_properties")
		b.screenshot(t, "properties-before")
		b.do(t, "fill the properties form",
			chromedp.Clear(chromedp.ID("capacity")),
			chromedp.SendKeys(chromedp.ID("capacity"), fmt.Sprint(capacity)),
			chromedp.SetValue(chromedp.ID("policy"), policy),
		)
		if got := b.follow(t, "click Save", chromedp.Click(chromedp.CSS(`form[action="/cache_properties"] button[type=submit]`), chromedp.NodeVisible)); got != 200 {
			t.Errorf("save: status %d after the redirect, want 200", got)
		}
		b.checkAt(t, "Save", "/cache_properties?saved=1")
		if got, want := b.text(t, ".notice.ok"), "Saved. The cache applied the new settings."; got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		facts := b.facts(t, "dl.facts")
		if got, want := facts["Capacity"], fmt.Sprintf("%d MB", capacity); got != want {
			t.Errorf("Capacity in force = %q, want %q", got, want)
		}
		if got := facts["Replacement policy"]; got != policyName {
			t.Errorf("Replacement policy in force = %q, want %q", got, policyName)
		}
		if got, want := facts["The cache reports"], fmt.Sprintf("%d MB, %s;", capacity, policyName); !strings.HasPrefix(got, want) {
			t.Errorf("The cache reports %q, want it to start %q", got, want)
		}
		if got := browserEval[[]string](t, b, `[document.getElementById("capacity").value, document.getElementById("policy").value]`); !slices.Equal(got, []string{fmt.Sprint(capacity), policy}) {
			t.Errorf("form shows %q, want the saved settings [%d %s]", got, capacity, policy)
		}
		b.screenshot(t, "properties-saved")
		if got := apptest.CacheStats(t, st); got.CapacityMB != capacity || got.Policy != policyName {
			t.Errorf("memcache has %d MB, %s; want %d MB, %s", got.CapacityMB, got.Policy, capacity, policyName)
		}
	})

	t.Run("clear", func(t *testing.T) {
		if got := apptest.CacheStats(t, st).Items; got == 0 {
			t.Fatalf("memcache holds no items before Clear cache")
		}
		if got := b.follow(t, "click Clear cache…", chromedp.Click(chromedp.CSS(`button.danger`), chromedp.NodeVisible)); got != 200 {
			t.Errorf("Clear cache…: status %d, want 200", got)
		}
		b.checkAt(t, "Clear cache…", "/cache_properties/clear")
		if got := apptest.CacheStats(t, st).Items; got == 0 {
			t.Fatalf("the confirmation page cleared the cache")
		}
		b.screenshot(t, "properties-clear-confirm")
		if got := b.follow(t, "confirm Clear cache", chromedp.Click(chromedp.CSS(`form.actions button.danger`), chromedp.NodeVisible)); got != 200 {
			t.Errorf("clear: status %d after the redirect, want 200", got)
		}
		b.checkAt(t, "Clear cache", "/cache_properties?cleared=1")
		if got, want := b.text(t, ".notice.ok"), "The cache was cleared."; got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		if got := apptest.CacheStats(t, st).Items; got != 0 {
			t.Errorf("memcache holds %d items after Clear cache, want 0", got)
		}
		if got := b.facts(t, "dl.facts")["The cache reports"]; !strings.Contains(got, "; 0 items,") {
			t.Errorf("The cache reports %q, want 0 items", got)
		}
		b.screenshot(t, "properties-cleared")
	})
}

// TestBrowserStatsCharts checks that the statistics page shows recorded rows and that its four charts
// load as images.
func TestBrowserStatsCharts(t *testing.T) {
	dsn := dbtest.DSN(t, database.SQLite)
	b, _ := newBrowser(t, dsn)

	// The stack's memcache writes a row only every hour, so write the rows a running cache would have
	// written every 5 s over the last 9 minutes: a cache warming up, its hit rate rising.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := database.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	const every, rows = 5 * time.Second, 108
	now := time.Now().UTC()
	for i := range rows {
		items := int64(min(4*i, 300))
		requests := int64(150 + 50*(i%7))
		hits := requests * int64(40+min(i/2, 50)) / 100
		r := database.StatsRow{
			CacheSize: items * 37 << 10, KeyCount: items,
			RequestCount: requests, HitCount: hits, MissCount: requests - hits,
			CreatedAt: now.Add(-time.Duration(rows-1-i) * every),
		}
		if err := db.InsertStats(ctx, r); err != nil {
			t.Fatalf("InsertStats: %v", err)
		}
	}

	b.open(t, "/cache_stats")
	b.checkPage(t, "Cache statistics", "/cache_stats")
	if got := b.texts(t, ".notice.info"); len(got) != 0 {
		t.Errorf("page says there is no data: %q", got)
	}
	if got := b.texts(t, ".columns h2"); !slices.Equal(got, []string{"Recorded", "The cache now"}) {
		t.Errorf("sections = %q, want [Recorded, The cache now]", got)
	}
	if got, want := b.text(t, ".columns p.small"), fmt.Sprintf("%d rows in the window", rows); !strings.HasPrefix(got, want) {
		t.Errorf("recorded summary = %q, want it to start %q", got, want)
	}
	recorded := b.facts(t, ".columns section:first-child dl.facts")
	if got, want := recorded["Items in the cache"], "300"; got != want {
		t.Errorf("recorded Items in the cache = %q, want %q (the newest row's)", got, want)
	}
	if got := recorded["Hit rate in the last minute"]; !strings.HasSuffix(got, "%") {
		t.Errorf("recorded Hit rate in the last minute = %q, want a percentage", got)
	}
	charts := b.images(t, "figure img")
	if len(charts) != 4 {
		t.Fatalf("found %d chart images, want 4", len(charts))
	}
	for _, c := range charts {
		if !c.Complete || c.Natural[0] == 0 {
			t.Errorf("chart %s did not load (complete %v, naturalWidth %d)", c.Src, c.Complete, c.Natural[0])
			continue
		}
		if c.Natural != c.Attr {
			t.Errorf("chart %s is %v pixels but its <img> says %v", c.Src, c.Natural, c.Attr)
		}
	}
	b.screenshot(t, "stats")
}
