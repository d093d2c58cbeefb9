package web_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"imgcache/database"
	"imgcache/database/dbtest"
)

// The Benchmarks pages in Chromium, at a laptop's width and a phone's: the list reached from the
// navigation bar, a run and its graphs, the run's own report sandboxed, and a comparison chosen in the
// form, each checked for its heading, its images, its contrast and sideways scrolling.

// checkGraphs fails unless the page shows want graphs, each loaded at the size its <img> states.
func (b *browser) checkGraphs(t *testing.T, want int) {
	t.Helper()
	b.loadImages(t)
	graphs := b.images(t, ".charts img")
	if len(graphs) != want {
		t.Errorf("found %d graphs, want %d", len(graphs), want)
	}
	for _, g := range graphs {
		if g.Natural[0] == 0 || g.Natural != g.Attr {
			t.Errorf("graph %s is %v pixels, its <img> says %v", g.Src, g.Natural, g.Attr)
		}
	}
}

func TestBrowserReports(t *testing.T) {
	for _, width := range browserWidths {
		t.Run(width.name, func(t *testing.T) {
			f := newReportsFixture(t)
			b, _ := newBrowserWith(t, dbtest.DSN(t, database.SQLite), reportsConfig(f.Dir, repoSample))
			b.resize(t, width)
			shot := func(name string) { b.screenshot(t, name) }

			b.open(t, "/")
			if got := b.follow(t, "click Benchmarks", chromedp.Click(chromedp.CSS(`nav a[href="/reports"]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("Benchmarks: status %d", got)
			}
			b.checkAt(t, "clicking Benchmarks", "/reports")
			b.checkPage(t, "Benchmarks", "/reports")
			b.checkNoSidewaysScroll(t, "the list of runs")
			b.checkTextContrast(t, "the list of runs")
			shot("reports")
			heads := b.texts(t, "article.run h3")
			if want := []string{runAfter, runBefore, runBroken, runFuture, "sample sample"}; !slices.Equal(heads, want) {
				t.Errorf("runs listed = %q, want %q", heads, want)
			}
			if got := b.texts(t, "article.run .notice.err"); len(got) != 2 || !strings.Contains(got[0], "line 4, column 21") {
				t.Errorf("problems shown = %q, want the broken run's with its line and column, and the unknown version's", got)
			}
			// The headline figures: 80:20 under LRU of the newest run.
			if got := browserEval[string](t, b, `document.querySelector('article.run a[href="/reports/run/`+runAfter+`"]').closest("article")
				.querySelector("table.matrix tbody td").innerText.replace(/\s+/g, " ")`); got != "900/s 44.0% hits" {
				t.Errorf("newest run's 80:20 LRU cell = %q, want 900/s 44.0%% hits", got)
			}

			if got := b.follow(t, "click the run", chromedp.Click(chromedp.CSS(`article.run h3 a[href="/reports/run/`+runBefore+`"]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("run page: status %d", got)
			}
			b.checkAt(t, "clicking the run", "/reports/run/"+runBefore)
			b.checkPage(t, "Benchmark run "+runBefore, "/reports")
			b.checkGraphs(t, 4)
			b.checkNoSidewaysScroll(t, "a run's page")
			b.checkTextContrast(t, "a run's page")
			if got := b.texts(t, "table.cells tbody tr"); len(got) != 4 {
				t.Errorf("cells = %q, want 4 rows", got)
			}
			shot("run")

			// The run's own report, which carries inline styles: served sandboxed, it shows its
			// graphs and logs no CSP violation (checkConsole fails the test on any).
			if got := b.follow(t, "click index.html", chromedp.Click(chromedp.CSS(`.files a[href$="/index.html"]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("index.html: status %d", got)
			}
			b.loadImages(t)
			if imgs := b.images(t, "img"); len(imgs) != 4 {
				t.Errorf("the run's report shows %d images, want its 4 graphs", len(imgs))
			}
			if got := browserEval[string](t, b, `getComputedStyle(document.body).fontFamily`); !strings.Contains(got, "system-ui") {
				t.Errorf("the run's report has font %q: its own styles did not apply", got)
			}
			if got := browserEval[string](t, b, `(() => { try { return document.cookie } catch (e) { return "denied" } })()`); got != "denied" && got != "" {
				t.Errorf("the run's report can read the cookies: %q", got)
			}
			shot("run-own-report")

			b.open(t, "/reports/run/sample")
			b.checkPage(t, "Benchmark run sample", "/reports")
			b.checkGraphs(t, 9)
			b.checkNoSidewaysScroll(t, "the sample's page")
			shot("sample")

			b.open(t, "/reports")
			b.do(t, "choose two runs", chromedp.SetValue(chromedp.ID("a"), runBefore), chromedp.SetValue(chromedp.ID("b"), runAfter))
			if got := b.follow(t, "click Compare", chromedp.Click(chromedp.CSS(`form.compare button`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("Compare: status %d", got)
			}
			b.checkAt(t, "Compare", "/reports/compare?a="+url.QueryEscape(runBefore)+"&b="+url.QueryEscape(runAfter))
			b.checkPage(t, "Comparison of two benchmark runs", "/reports")
			if got, want := b.text(t, "p.summary"), "12 regression(s) beyond 10%."; got != want {
				t.Errorf("summary = %q, want %q", got, want)
			}
			if got := b.texts(t, "tr.regression-row td.verdict"); len(got) != 12 || got[0] != "REGRESSION" {
				t.Errorf("regression verdicts = %q, want 12 saying REGRESSION", got)
			}
			b.checkNoSidewaysScroll(t, "a comparison")
			b.checkTextContrast(t, "a comparison")
			shot("compare")

			if got := b.follow(t, "click Choose other runs", chromedp.Click(chromedp.CSS(`a[href*="#compare"]`), chromedp.NodeVisible)); got != 200 {
				t.Errorf("Choose other runs: status %d", got)
			}
			if got := browserEval[[]string](t, b, `[document.getElementById("a").value, document.getElementById("b").value]`); !slices.Equal(got, []string{runBefore, runAfter}) {
				t.Errorf("the form came back with %q, want the pair compared", got)
			}

			b.visit(t, "/reports/run/"+runBroken, 422)
			b.checkNoSidewaysScroll(t, "a broken run's page")
			if got := b.text(t, ".notice.err"); !strings.Contains(got, "cannot be read: it is not valid JSON (line 4, column 21)") {
				t.Errorf("broken run says %q", got)
			}
			shot("run-broken")
			b.forgetConsole(t, "status of 422")
		})
	}
}
