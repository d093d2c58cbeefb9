package web_test

import (
	"context"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"imgcache/app/apptest"

	"github.com/chromedp/chromedp"

	"imgcache/database"
	"imgcache/database/dbtest"
)

// The pages as an operator uses them, at a laptop's width and at a 390 px phone's: finding and
// deleting keys, the statistics page's windows and grid, and no page that scrolls sideways.

// browserWidth is a window size the pages are tried at.
type browserWidth struct {
	name string
	w, h int64
}

// browserWidths are a laptop and a phone (an iPhone 12 to 15 is 390 CSS pixels wide).
var browserWidths = []browserWidth{{"desktop", 1280, 900}, {"phone", 390, 844}}

// resize sets the tab's viewport.
func (b *browser) resize(t *testing.T, w browserWidth) {
	t.Helper()
	b.do(t, "resize to "+w.name, chromedp.EmulateViewport(w.w, w.h))
}

// visit loads path and checks its status, which may be an error's: open wants a 200.
func (b *browser) visit(t *testing.T, path string, status int64) {
	t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if resp.Status != status {
		t.Errorf("GET %s: status %d, want %d", path, resp.Status, status)
	}
}

// loadImages makes every image of the page load, lazy ones included (the tab's viewport decides
// which of those the browser fetched), and reports those that failed to decode.
func (b *browser) loadImages(t *testing.T) {
	t.Helper()
	failed, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Promise.all(Array.from(document.images, i => {
		i.loading = "eager";
		return i.decode().then(() => "", () => i.getAttribute("src"));
	})).then(r => r.filter(s => s !== ""))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("load the images: %v", err)
	}
	for _, src := range failed {
		t.Errorf("image %s did not load", src)
	}
}

// checkNoSidewaysScroll fails if the page is wider than the viewport, naming the widest elements.
func (b *browser) checkNoSidewaysScroll(t *testing.T, what string) {
	t.Helper()
	got := browserEval[[]int](t, b, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
	if got[0] <= got[1] {
		return
	}
	wide := browserEval[[]string](t, b, `Array.from(document.querySelectorAll("body *"))
		.filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible")
		.map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "") + " (" + Math.round(e.getBoundingClientRect().right) + " px)")
		.slice(0, 6)`)
	t.Errorf("%s scrolls sideways: %d px wide in a %d px viewport; too wide: %q", what, got[0], got[1], wide)
}

// browserUploadMany stores images under keys, in the order given, through the API.
func browserUploadMany(t *testing.T, st *apptest.Stack, keys []string) {
	t.Helper()
	for i, k := range keys {
		browserUpload(t, st, k, browserPicture(t, 40+i%5*20, 40+i%3*15))
	}
}

// longKey is a key of 255 bytes with nowhere to break a line: it must wrap inside its cell, not widen
// the page.
var longKey = strings.Repeat("w", 255)

// TestBrowserKeysFlow finds keys by prefix, pages through them in natural order, deletes one through
// its confirmation page and then all of them, at both widths.
func TestBrowserKeysFlow(t *testing.T) {
	for _, width := range browserWidths {
		t.Run(width.name, func(t *testing.T) {
			b, st := newBrowser(t, dbtest.DSN(t, database.SQLite))
			b.resize(t, width)
			keys := append([]string{"cat", "holiday/beach ü 1", longKey}, imgKeys(1, 60)...)
			slices.Reverse(keys) // stored in no particular order
			browserUploadMany(t, st, keys)
			shot := func(name string) { b.screenshot(t, name) }

			b.open(t, "/keys_list")
			b.checkPage(t, "Keys", "/keys_list")
			b.loadImages(t)
			b.checkNoSidewaysScroll(t, "the keys page")
			shot("keys-page1")
			rows := b.texts(t, "tbody td.key")
			if len(rows) != 50 || rows[0] != "cat" || rows[1] != "holiday/beach ü 1" || rows[2] != "img1" || rows[3] != "img2" || rows[11] != "img10" {
				t.Errorf("first page keys = %q…, want 50 starting cat, holiday/beach ü 1, img1, img2, … img10 twelfth", rows[:min(len(rows), 12)])
			}
			if got := b.text(t, "main > p.summary"); !strings.HasPrefix(got, "Keys 1–50 of 63, ") {
				t.Errorf("summary = %q, want Keys 1–50 of 63, …", got)
			}
			b.checkCellsWhole(t)
			b.checkDeleteInView(t)

			// Next page, by its link.
			if got := b.follow(t, "click Next", chromedp.Click(chromedp.CSS(`nav.pager a[rel=next]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("Next: status %d", got)
			}
			b.checkAt(t, "Next", "/keys_list?page=2")
			if got, want := b.texts(t, "tbody td.key"), append(imgKeys(49, 60), longKey); !slices.Equal(got, want) {
				t.Errorf("second page keys = %q, want %q", got, want)
			}
			b.loadImages(t)
			b.checkNoSidewaysScroll(t, "the second page of keys, with a 255-byte key")
			b.checkCellsWhole(t)
			b.checkDeleteInView(t)
			shot("keys-page2")

			// Search by prefix.
			b.do(t, "type a prefix", chromedp.Clear(chromedp.ID("q")), chromedp.SendKeys(chromedp.ID("q"), "img5"))
			if got := b.follow(t, "click Search", chromedp.Click(chromedp.CSS(`form.search button`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("Search: status %d", got)
			}
			b.checkAt(t, "Search", "/keys_list?q=img5")
			if got, want := b.texts(t, "tbody td.key"), append(imgKeys(5, 5), imgKeys(50, 59)...); !slices.Equal(got, want) {
				t.Errorf("keys starting with img5 = %q, want %q", got, want)
			}
			b.loadImages(t)
			shot("keys-search")

			// Delete one, confirming; back on the same search.
			if got := b.follow(t, "click Delete of img52", chromedp.Click(chromedp.CSS(`button[aria-label="Delete img52"]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("Delete: status %d", got)
			}
			b.checkAt(t, "Delete", "/keys_list/delete?key=img52&q=img5")
			if got, want := b.text(t, "p.question"), `Delete the image stored under key "img52"?`; got != want {
				t.Errorf("question = %q, want %q", got, want)
			}
			b.loadImages(t)
			b.checkNoSidewaysScroll(t, "the delete confirmation page")
			shot("delete-confirm")
			if status, _ := apptest.ReadKey(t, st.Backend.URL(), "img52"); status != 200 {
				t.Fatalf("the confirmation page deleted the key: read = %d", status)
			}
			if got := b.follow(t, "confirm", chromedp.Click(chromedp.CSS(`form.actions button[type=submit]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("confirm: status %d after the redirect", got)
			}
			b.checkAt(t, "confirming", "/keys_list?q=img5&deleted=1")
			if got, want := b.text(t, ".notice.ok"), "The image was deleted."; got != want {
				t.Errorf("flash = %q, want %q", got, want)
			}
			if got := b.texts(t, "tbody td.key"); slices.Contains(got, "img52") || len(got) != 10 {
				t.Errorf("keys after deleting img52 = %q, want the 10 others", got)
			}
			if status, _ := apptest.ReadKey(t, st.Backend.URL(), "img52"); status != 404 {
				t.Errorf("read of the deleted key = %d, want 404", status)
			}
			shot("deleted")

			// Delete all, confirming; Cancel first.
			b.open(t, "/keys_list")
			if got := b.follow(t, "click Delete all", chromedp.Click(chromedp.CSS(`form[action="/keys_list/delete_all"] button`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("Delete all: status %d", got)
			}
			if got, want := b.text(t, "p.question"), "Delete all 62 images?"; got != want {
				t.Errorf("question = %q, want %q", got, want)
			}
			b.checkNoSidewaysScroll(t, "the delete-all confirmation page")
			shot("delete-all-confirm")
			if got := b.follow(t, "click Cancel", chromedp.Click(chromedp.CSS(`a.cancel`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("Cancel: status %d", got)
			}
			b.checkAt(t, "Cancel", "/keys_list")
			b.follow(t, "click Delete all", chromedp.Click(chromedp.CSS(`form[action="/keys_list/delete_all"] button`), chromedp.NodeVisible))
			if got := b.follow(t, "confirm", chromedp.Click(chromedp.CSS(`form.actions button[type=submit]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("confirm: status %d after the redirect", got)
			}
			b.checkAt(t, "confirming delete all", "/keys_list?deleted=all")
			if got := b.text(t, ".notice.ok"); got != "Every image was deleted." {
				t.Errorf("flash = %q", got)
			}
			if _, a := apptest.Call(t, "POST", st.Backend.URL()+"/api/list_keys", "", nil); len(a.Keys) != 0 {
				t.Errorf("keys after delete all = %q, want none", a.Keys)
			}
			shot("deleted-all")
		})
	}
}

// checkCellsWhole fails if a content type, a size or a time in the keys table wraps onto a second
// line: only keys may break ("imag e/png" is the failure this guards against).
func (b *browser) checkCellsWhole(t *testing.T) {
	t.Helper()
	broken := browserEval[[]string](t, b, `Array.from(document.querySelectorAll("tbody td.nowrap, tbody td.num"))
		.filter(td => { const r = document.createRange(); r.selectNodeContents(td); return r.getClientRects().length > 1; })
		.map(td => td.innerText)`)
	if len(broken) > 0 {
		t.Errorf("cells that break onto two lines: %q", broken)
	}
}

// checkDeleteInView fails if a row's Delete button lies beyond the viewport's right edge: on a phone
// the table may scroll inside its box, but its main action must not need that.
func (b *browser) checkDeleteInView(t *testing.T) {
	t.Helper()
	out := browserEval[[]string](t, b, `Array.from(document.querySelectorAll("tbody button"))
		.filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
		.map(e => e.getAttribute("aria-label"))`)
	if len(out) > 0 {
		t.Errorf("%d Delete buttons lie beyond the viewport, the first: %q", len(out), out[0])
	}
}

// TestBrowserStatsWindows switches the statistics page's window, turns its reloading off, and checks
// the grid of charts, their alt texts and the CSV link, at both widths.
func TestBrowserStatsWindows(t *testing.T) {
	for _, width := range browserWidths {
		t.Run(width.name, func(t *testing.T) {
			dsn := dbtest.DSN(t, database.SQLite)
			b, _ := newBrowser(t, dsn)
			b.resize(t, width)
			insertStatsRows(t, dsn, 50*time.Minute)
			shot := func(name string) { b.screenshot(t, name) }

			b.open(t, "/cache_stats")
			b.checkPage(t, "Cache statistics", "/cache_stats")
			b.checkNoSidewaysScroll(t, "the statistics page")
			shot("stats-10m")
			if got := browserEval[string](t, b, `document.querySelector('meta[http-equiv="refresh"]')?.content ?? ""`); got != "15" {
				t.Errorf("meta refresh = %q, want 15", got)
			}
			alts := browserEval[[]string](t, b, `Array.from(document.querySelectorAll(".charts img"), i => i.alt)`)
			if len(alts) != 4 || !strings.Contains(alts[0], "; now 300.") || !strings.Contains(alts[3], "% hits, ") {
				t.Errorf("chart alt texts = %q, want four, with current values", alts)
			}
			// Side by side on a laptop, one under another on a phone.
			tops := browserEval[[]float64](t, b, `Array.from(document.querySelectorAll(".charts figure"), f => f.getBoundingClientRect().top)`)
			if side := len(tops) == 4 && math.Abs(tops[0]-tops[1]) < 1; side != (width.name == "desktop") {
				t.Errorf("chart tops = %v: side by side %v, want %v", tops, side, width.name == "desktop")
			}

			if got := b.follow(t, "click 1 hour", chromedp.Click(chromedp.CSS(`nav.windows a[href$="window=1h"]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("1 hour: status %d", got)
			}
			b.checkAt(t, "1 hour", "/cache_stats?window=1h")
			if got := b.text(t, `nav.windows a[aria-current="true"]`); got != "1 hour" {
				t.Errorf("current window = %q, want 1 hour", got)
			}
			b.checkPage(t, "Cache statistics", "/cache_stats")
			for _, img := range b.images(t, ".charts img") {
				if !strings.Contains(img.Src, "window=1h") {
					t.Errorf("chart %s does not draw the 1-hour window", img.Src)
				}
			}
			if got := browserEval[[]string](t, b, `[document.querySelector('a[download]').getAttribute("href")]`); !slices.Equal(got, []string{"/cache_stats.csv?window=1h"}) {
				t.Errorf("CSV link = %q, want /cache_stats.csv?window=1h", got)
			}
			shot("stats-1h")

			if got := b.follow(t, "click Stop reloading", chromedp.Click(chromedp.CSS(`a[href*="refresh=off"]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("Stop reloading: status %d", got)
			}
			b.checkAt(t, "Stop reloading", "/cache_stats?window=1h&refresh=off")
			if got := browserEval[int](t, b, `document.querySelectorAll('meta[http-equiv="refresh"]').length`); got != 0 {
				t.Errorf("%d meta refresh tags with reloading off, want 0", got)
			}
			if got := b.text(t, "main > p.small"); !strings.HasPrefix(got, "This page does not reload itself.") {
				t.Errorf("reload note = %q", got)
			}
			b.open(t, "/cache_stats?window=24h")
			b.checkPage(t, "Cache statistics", "/cache_stats")
			shot("stats-24h")
		})
	}
}

// insertStatsRows writes the rows a running cache would have written every 5 s over span: a cache
// warming up to 300 items, its hit rate rising.
func insertStatsRows(t *testing.T, dsn string, span time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db := apptest.OpenDB(t, dsn)
	rows := int(span / (5 * time.Second))
	now := time.Now().UTC()
	for i := range rows {
		items := int64(min(2*i, 300))
		requests := int64(150 + 50*(i%7))
		hits := requests * int64(40+min(i/4, 50)) / 100
		r := database.StatsRow{CacheSize: items * 37 << 10, KeyCount: items, RequestCount: requests, HitCount: hits,
			MissCount: requests - hits, CreatedAt: now.Add(-time.Duration(rows-1-i) * 5 * time.Second)}
		if err := db.InsertStats(ctx, r); err != nil {
			t.Fatalf("InsertStats: %v", err)
		}
	}
}

// TestBrowserNoSidewaysScroll opens every kind of page at a laptop's 1280 px and on a 390 px phone,
// with long keys and many of them, and benchmark runs with the committed sample, and fails if any is
// wider than its viewport.
func TestBrowserNoSidewaysScroll(t *testing.T) {
	for _, w := range browserWidths {
		t.Run(w.name, func(t *testing.T) { checkNoSidewaysScroll(t, w) })
	}
}

// checkNoSidewaysScroll is TestBrowserNoSidewaysScroll at one width, with a browser of its own.
func checkNoSidewaysScroll(t *testing.T, w browserWidth) {
	dsn := dbtest.DSN(t, database.SQLite)
	b, st := newBrowserWith(t, dsn, reportsConfig(newReportsFixture(t).Dir, repoSample))
	b.resize(t, w)
	browserUploadMany(t, st, append([]string{"cat", longKey, "a/long/path/of/folders/and a name with spaces.png"}, imgKeys(1, 80)...))
	apptest.ReadKey(t, st.Backend.URL(), "cat") // something in the cache
	insertStatsRows(t, dsn, 5*time.Minute)
	pages := []struct {
		name, path string
		status     int64
	}{
		{"home", "/", 200},
		{"image", "/image?key=cat", 200},
		{"image with a long key", "/image?key=" + longKey, 200},
		{"image form", "/image", 200},
		{"upload", "/upload_image", 200},
		{"keys", "/keys_list", 200},
		{"keys page 2", "/keys_list?page=2", 200},
		{"keys search", "/keys_list?q=img1", 200},
		{"keys search without match", "/keys_list?q=" + url.QueryEscape(strings.Repeat("nomatch", 30)), 200},
		{"properties", "/cache_properties", 200},
		{"stats", "/cache_stats", 200},
		{"stats 24h", "/cache_stats?window=24h&refresh=off", 200},
		{"pool", "/pool", 200},
		{"benchmarks", "/reports", 200},
		{"a benchmark run", "/reports/run/" + runBefore, 200},
		{"the sample run", "/reports/run/sample", 200},
		{"a comparison", "/reports/compare?a=" + runBefore + "&b=" + runAfter, 200},
		{"a comparison with the sample", "/reports/compare?a=sample&b=" + runBefore, 200},
		{"a broken run", "/reports/run/" + runBroken, 422},
		{"delete confirmation", "/keys_list/delete?key=" + longKey, 200},
		{"delete-all confirmation", "/keys_list/delete_all", 200},
		{"clear confirmation", "/cache_properties/clear", 200},
		{"unknown key", "/image?key=" + url.QueryEscape(strings.Repeat("no-such-key/", 20)), 404},
		{"not found", "/no/such/" + strings.Repeat("page", 40), 404},
		{"bad window", "/cache_stats?window=" + strings.Repeat("7d", 60), 400},
		{"bad page number", "/keys_list?page=" + strings.Repeat("9x", 60), 400},
	}
	// The 404s of the error pages are failed loads in the console, on purpose.
	defer b.forgetConsole(t, "status of 404", "status of 400", "status of 422")
	for i, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			b.visit(t, p.path, p.status)
			b.loadImages(t)
			b.checkNoSidewaysScroll(t, p.path+" at "+strconv.FormatInt(w.w, 10)+" px")
			b.screenshot(t, w.name+"-"+strconv.Itoa(i)+"-"+browserFileSafe.ReplaceAllString(p.name, "-"))
		})
	}
	if w.w >= 1000 {
		return
	}
	// Where the keys table no longer fits it scrolls in its own box: on the narrowest phones still sold
	// (320 px), and between the phone layout and the table's full width (a window of 520 px).
	for _, w := range []browserWidth{{"narrow", 320, 640}, {"between", 520, 700}} {
		t.Run("keys at "+strconv.FormatInt(w.w, 10)+" px", func(t *testing.T) {
			b.resize(t, w)
			b.visit(t, "/keys_list?page=2", 200)
			b.loadImages(t)
			b.checkNoSidewaysScroll(t, "the keys page at "+w.name+" width")
			b.screenshot(t, w.name+"-keys")
		})
	}
}

// TestBrowserAccessibility: the badges' text, and every other text of the pages, has 4.5:1 contrast or
// more, and every form hint is tied to the field it explains.
func TestBrowserAccessibility(t *testing.T) {
	b, st := newBrowser(t, dbtest.DSN(t, database.SQLite))
	browserUpload(t, st, "cat", browserPicture(t, 30, 20))
	browserUploadMany(t, st, imgKeys(1, 55)) // a second page of keys, for the pager

	t.Run("badge contrast", func(t *testing.T) {
		for _, badge := range []string{"from disk", "from cache"} { // the first read misses, the second hits
			b.open(t, "/image?key=cat")
			colors := browserEval[[]string](t, b, `(e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor, e.innerText])(document.querySelector(".badge"))`)
			if colors[2] != badge {
				t.Fatalf("badge says %q, want %q", colors[2], badge)
			}
			fg, bg := cssColor(t, colors[0]), cssColor(t, colors[1])
			if r := contrast(fg, bg); r < 4.5 {
				t.Errorf("%q badge: %s on %s is %.2f:1, want 4.5:1 or more", badge, colors[0], colors[1], r)
			} else {
				t.Logf("%q badge: %s on %s is %.2f:1", badge, colors[0], colors[1], r)
			}
		}
	})
	t.Run("text contrast", func(t *testing.T) {
		for _, path := range []string{"/", "/image?key=cat", "/upload_image", "/keys_list", "/cache_properties", "/cache_stats",
			"/keys_list/delete?key=cat", "/cache_properties/clear", "/image?key=nope"} {
			b.visit(t, path, map[bool]int64{true: 404, false: 200}[path == "/image?key=nope"])
			b.checkTextContrast(t, path)
		}
		b.forgetConsole(t, "status of 404")
	})
	t.Run("hints tied to fields", func(t *testing.T) {
		for _, path := range []string{"/upload_image", "/cache_properties", "/keys_list"} {
			b.open(t, path)
			untied := browserEval[[]string](t, b, `Array.from(document.querySelectorAll("form .hint, form + .hint"))
				.filter(h => !h.id || !document.querySelector('[aria-describedby~="' + h.id + '"]'))
				.map(h => h.innerText)`)
			if len(untied) > 0 {
				t.Errorf("%s: hints no field points to with aria-describedby: %q", path, untied)
			}
			if n := browserEval[int](t, b, `document.querySelectorAll("[aria-describedby]").length`); n == 0 {
				t.Errorf("%s: no field has aria-describedby", path)
			}
		}
	})
}

// checkTextContrast fails for each text of the page shown now whose colour has less than 4.5:1
// contrast with the first opaque background behind it.
func (b *browser) checkTextContrast(t *testing.T, what string) {
	t.Helper()
	// Each element with text of its own, its colour, and the first opaque background behind it.
	texts := browserEval[[][3]string](t, b, `Array.from(document.querySelectorAll("body *"))
		.filter(e => e.getClientRects().length > 0 && !e.closest(".visually-hidden") &&
			Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim() !== ""))
		.map(e => {
			let bg = "rgb(255, 255, 255)";
			for (let a = e; a; a = a.parentElement) {
				const c = getComputedStyle(a).backgroundColor;
				if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") { bg = c; break; }
			}
			return [e.tagName.toLowerCase() + (e.className ? "." + e.className : "") + " " + JSON.stringify(e.textContent.trim().slice(0, 30)), getComputedStyle(e).color, bg];
		})`)
	if len(texts) < 10 {
		t.Fatalf("%s: found %d texts, want the page's", what, len(texts))
	}
	for _, x := range texts {
		if r := contrast(cssColor(t, x[1]), cssColor(t, x[2])); r < 4.5 {
			t.Errorf("%s: %s is %s on %s, %.2f:1; want 4.5:1 or more", what, x[0], x[1], x[2], r)
		}
	}
}

// cssColor reads a computed colour, "rgb(r, g, b)" or "rgba(r, g, b, a)".
func cssColor(t *testing.T, s string) [3]float64 {
	t.Helper()
	m := regexp.MustCompile(`^rgba?\((\d+), (\d+), (\d+)`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("colour %q is not rgb()", s)
	}
	var c [3]float64
	for i := range c {
		v, _ := strconv.Atoi(m[i+1])
		c[i] = float64(v) / 255
	}
	return c
}

// contrast is the WCAG 2 contrast ratio of two sRGB colours.
func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 {
		var l [3]float64
		for i, v := range c {
			if v <= 0.04045 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}
