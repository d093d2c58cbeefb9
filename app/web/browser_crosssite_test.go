package web_test

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"strings"
	"testing"

	"imgcache/app/apptest"

	"github.com/chromedp/chromedp"

	"imgcache/database"
	"imgcache/database/dbtest"
)

// attackerPages serves, from an origin of its own, one page per form that tries to change the
// backend at target: the page a user of the machine might open in another tab.
func attackerPages(t *testing.T, target string) string {
	t.Helper()
	forms := map[string]string{
		"/properties": `<form method="post" action="` + target + `/cache_properties">
<input name="capacity" value="0"><input name="policy" value="LRU"><input name="csrf" value="guessed">`,
		"/clear":      `<form method="post" action="` + target + `/cache_properties/clear">`,
		"/delete-all": `<form method="post" action="` + target + `/api/delete_all" enctype="text/plain"><input name="x" value="1">`,
		"/upload": `<form method="post" action="` + target + `/upload_image" enctype="multipart/form-data">
<input name="key" value="planted"><input name="csrf" value="guessed">`,
	}
	mux := http.NewServeMux()
	for path, form := range forms {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "<!doctype html><title>%s</title>%s<button id=go type=submit>Win a prize</button></form>", html.EscapeString(path), form)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestBrowserCrossSiteFormsRefused: a page of another origin that makes the browser submit forms to
// the backend gets 403 for each, and nothing changes: the properties, the images, the cache.
func TestBrowserCrossSiteFormsRefused(t *testing.T) {
	dsn := dbtest.DSN(t, database.SQLite)
	b, st := newBrowser(t, dsn)
	browserUpload(t, st, "kept", browserPicture(t, 20, 10))
	apptest.ReadKey(t, st.Backend.URL(), "kept") // fills the cache
	b.open(t, "/cache_properties")               // the browser now holds the backend's form-token cookie
	db := apptest.OpenDB(t, dsn)
	ctx := context.Background()
	propsBefore, propsErr := db.LatestCacheProperties(ctx)
	cacheBefore := apptest.CacheStats(t, st)

	evil := attackerPages(t, b.base)
	for _, path := range []string{"/properties", "/clear", "/delete-all", "/upload"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			if _, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(evil+path)); err != nil {
				t.Fatalf("open the attacker's page: %v", err)
			}
			if got := b.follow(t, "submit the attacker's form", chromedp.Click(chromedp.ID("go"), chromedp.NodeVisible)); got != http.StatusForbidden {
				t.Errorf("status %d, want 403", got)
			}
			b.screenshot(t, "cross-site-"+strings.TrimPrefix(path, "/"))
			if body := b.text(t, "body"); !strings.Contains(body, "another") {
				t.Errorf("the answer does not say why: %.200q", body)
			}
		})
	}

	// The refusals are failed loads to the console, and the JSON answer and the attacker's page have no
	// icon; nothing else may be there.
	b.forgetConsole(t, "status of 403", "favicon.ico")

	propsAfter, err := db.LatestCacheProperties(ctx)
	if err != propsErr && (err == nil) != (propsErr == nil) || propsAfter != propsBefore {
		t.Errorf("cache properties changed: %+v, %v; were %+v, %v", propsAfter, err, propsBefore, propsErr)
	}
	if keys, err := db.ListImages(ctx); err != nil || len(keys) != 1 || keys[0].Key != "kept" {
		t.Errorf("images after the attack = %+v, %v; want only %q", keys, err, "kept")
	}
	if after := apptest.CacheStats(t, st); after.Items != cacheBefore.Items || after.CapacityMB != cacheBefore.CapacityMB {
		t.Errorf("cache after the attack: %d items, %d MB; before: %d items, %d MB", after.Items, after.CapacityMB, cacheBefore.Items, cacheBefore.CapacityMB)
	}
}
