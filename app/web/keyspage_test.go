package web_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"imgcache/app/apptest"

	"imgcache/database"
)

// pageKeys are the keys of a keys page's table, in order.
func pageKeys(t *testing.T, body string) []string {
	t.Helper()
	var keys []string
	for _, m := range regexp.MustCompile(`<td class="key"><a href="[^"]*">([^<]*)</a>`).FindAllStringSubmatch(body, -1) {
		keys = append(keys, html.UnescapeString(m[1]))
	}
	return keys
}

// imgKeys is "img" followed by each number from lo to hi.
func imgKeys(lo, hi int) []string {
	var out []string
	for i := lo; i <= hi; i++ {
		out = append(out, fmt.Sprintf("img%d", i))
	}
	return out
}

// TestPageKeysSearchAndPages: the keys page finds keys by prefix, pages through them 50 at a time in
// natural order, and refuses a page that is not a number.
func TestPageKeysSearchAndPages(t *testing.T) {
	st := newStack(t)
	db := apptest.OpenDB(t, st.DSN)
	ctx := context.Background()
	// Rows only: the page lists rows and never reads their objects.
	for _, k := range append(imgKeys(1, 120), "cat") {
		if _, err := db.PutImage(ctx, database.Image{Key: k, Location: "loc-" + k, Size: 1000, ContentType: "image/png"}); err != nil {
			t.Fatal(err)
		}
	}
	cat := []string{"cat"}
	tests := []struct {
		name   string
		query  string
		status int
		keys   []string
		want   []string // on the page
		not    []string // not on the page
	}{
		{"first page", "", 200, append(cat, imgKeys(1, 49)...),
			[]string{"Keys 1–50 of 121", "Page 1 of 3", `<a href="/keys_list?page=2" rel="next">Next ›</a>`, `<a href="/keys_list?page=3">Last »</a>`},
			[]string{`rel="prev"`}},
		{"middle page", "?page=2", 200, imgKeys(50, 99),
			[]string{"Keys 51–100 of 121", "Page 2 of 3", `<a href="/keys_list" rel="prev">`, `<a href="/keys_list?page=3" rel="next">`}, nil},
		{"last page", "?page=3", 200, imgKeys(100, 120), []string{"Keys 101–121 of 121", "Page 3 of 3"}, []string{`rel="next"`}},
		{"past the end shows the last page", "?page=99", 200, imgKeys(100, 120), []string{"Page 3 of 3"}, nil},
		{"huge page number", "?page=99999999999999999999999", 200, imgKeys(100, 120), []string{"Page 3 of 3"}, nil},
		{"prefix", "?q=img1", 200, append(append(imgKeys(1, 1), imgKeys(10, 19)...), imgKeys(100, 120)...),
			[]string{"32 keys starting with “img1”", `value="img1"`, `<a href="/keys_list">Show every key</a>`}, []string{"Page 1 of"}},
		{"prefix pages", "?q=img", 200, imgKeys(1, 50), []string{"Keys 1–50 of 120 starting with “img”", `<a href="/keys_list?page=2&amp;q=img" rel="next">`}, nil},
		{"prefix second page", "?q=img&page=2", 200, imgKeys(51, 100), []string{"Keys 51–100 of 120"}, nil},
		{"prefix matches one", "?q=ca", 200, cat, []string{"1 key starting with “ca”"}, nil},
		{"prefix matches none", "?q=" + url.QueryEscape("<zz>"), 200, nil, []string{"No key starts with “&lt;zz&gt;”."}, []string{"<table"}},
		{"page zero", "?page=0", 400, nil, []string{"The page must be a whole number from 1; &#34;0&#34; is not."}, nil},
		{"page not a number", "?page=two", 400, nil, []string{"&#34;two&#34; is not"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, st.Backend.URL()+"/keys_list"+tt.query)
			wantPage(t, tt.name, r, tt.status, tt.want...)
			if got := pageKeys(t, r.Body); !slices.Equal(got, tt.keys) {
				t.Errorf("keys = %q, want %q", got, tt.keys)
			}
			for _, n := range tt.not {
				if strings.Contains(r.Body, n) {
					t.Errorf("page has %q", n)
				}
			}
		})
	}
}

// TestPageDeleteKey deletes one key through its confirmation page and the form, and refuses the post
// without the form token or from another origin.
func TestPageDeleteKey(t *testing.T) {
	st := newStack(t)
	db := apptest.OpenDB(t, st.DSN)
	ctx := context.Background()
	const key = "a&b/c d"
	for _, k := range []string{key, "other"} {
		if r := uploadForm(t, st, k, "k.png", apptest.PNGImage(t, 1)); r.Status != http.StatusSeeOther {
			t.Fatalf("upload %q = %d", k, r.Status)
		}
	}
	row, err := db.GetImage(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	base := st.Backend.URL()
	confirmURL := base + "/keys_list/delete?" + url.Values{"key": {key}, "q": {"a"}, "page": {"2"}}.Encode()

	t.Run("confirmation page", func(t *testing.T) {
		r := get(t, confirmURL)
		wantPage(t, "confirm", r, http.StatusOK, "<h1>Delete an image</h1>", esc(`Delete the image stored under key "a&b/c d"?`),
			`<form method="post" action="/keys_list/delete" class="actions">`, `<input type="hidden" name="csrf" value="`+apptest.Token+`">`,
			`<input type="hidden" name="key" value="a&amp;b/c d">`, `<input type="hidden" name="q" value="a">`, `<input type="hidden" name="page" value="2">`,
			`<img class="preview" src="/thumb/a&amp;b%2Fc%20d"`, `<a class="cancel" href="/keys_list?page=2&amp;q=a">Cancel</a>`)
		if _, err := db.GetImage(ctx, key); err != nil {
			t.Errorf("the confirmation page deleted the key: %v", err)
		}
	})
	refusals := []struct {
		name   string
		form   url.Values
		origin string
		status int
	}{
		{"without the form token", url.Values{"key": {key}, "csrf": {""}}, "", http.StatusForbidden},
		{"with another token", url.Values{"key": {key}, "csrf": {strings.Repeat("ab", 32)}}, "", http.StatusForbidden},
		{"from another origin", url.Values{"key": {key}}, "http://evil.example", http.StatusForbidden},
		{"unknown key", url.Values{"key": {"nope"}}, "", http.StatusNotFound},
		{"bad key", url.Values{"key": {""}}, "", http.StatusBadRequest},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.form.Has("csrf") {
				tt.form.Set("csrf", apptest.Token)
			}
			req, err := http.NewRequest(http.MethodPost, base+"/keys_list/delete", strings.NewReader(tt.form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "imgcache_csrf", Value: apptest.Token})
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := apptest.NoRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if _, err := db.GetImage(ctx, key); err != nil {
				t.Errorf("a refused post deleted the key: %v", err)
			}
		})
	}
	t.Run("delete", func(t *testing.T) {
		r := postForm(t, base+"/keys_list/delete", url.Values{"key": {key}, "q": {"a"}, "page": {"2"}})
		if want := "/keys_list?deleted=1&page=2&q=a"; r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Fatalf("delete = %d, Location %q; want 303 to %q; body:\n%s", r.Status, r.Header.Get("Location"), want, r.Body)
		}
		if _, err := db.GetImage(ctx, key); !errors.Is(err, database.ErrNotFound) {
			t.Errorf("row after delete: %v, want app.ErrNotFound", err)
		}
		if _, err := os.Stat(filepath.Join(st.DataDir, "images", row.Location)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("object after delete: %v, want it gone", err)
		}
		// Page 2 of one key is past the end: the page shows the last one, with the message.
		r = get(t, base+r.Header.Get("Location"))
		wantPage(t, "after delete", r, http.StatusOK, `<p class="notice ok" role="status">The image was deleted.</p>`)
		if got := pageKeys(t, r.Body); len(got) != 0 {
			t.Errorf("keys starting with a after the delete = %q, want none", got)
		}
		if _, err := db.GetImage(ctx, "other"); err != nil {
			t.Errorf("the other key went too: %v", err)
		}
	})
	t.Run("confirmation of a deleted key", func(t *testing.T) {
		wantPage(t, "gone", get(t, confirmURL), http.StatusNotFound, "it may have been deleted already")
	})
}

// TestPageDeleteAll deletes every image through the confirmation page.
func TestPageDeleteAll(t *testing.T) {
	st := newStack(t)
	db := apptest.OpenDB(t, st.DSN)
	for _, k := range []string{"one", "two", "three"} {
		uploadForm(t, st, k, "k.png", apptest.PNGImage(t, 1))
	}
	base := st.Backend.URL()
	r := get(t, base+"/keys_list/delete_all")
	wantPage(t, "confirm", r, http.StatusOK, "<h1>Delete every image</h1>", "Delete all 3 images?",
		`<form method="post" action="/keys_list/delete_all" class="actions">`, `name="csrf" value="`+apptest.Token+`"`)
	if r := postForm(t, base+"/keys_list/delete_all", url.Values{"csrf": {""}}); r.Status != http.StatusForbidden {
		t.Errorf("delete all without the form token = %d, want 403", r.Status)
	}
	if n, err := db.CountImages(context.Background()); err != nil || n != 3 {
		t.Fatalf("keys after the refused post = %d, %v; want 3", n, err)
	}
	r = postForm(t, base+"/keys_list/delete_all", nil)
	if want := "/keys_list?deleted=all"; r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
		t.Fatalf("delete all = %d, Location %q; want 303 to %q", r.Status, r.Header.Get("Location"), want)
	}
	if n, err := db.CountImages(context.Background()); err != nil || n != 0 {
		t.Errorf("keys after delete all = %d, %v; want 0", n, err)
	}
	wantPage(t, "after", get(t, base+"/keys_list?deleted=all"), http.StatusOK, "Every image was deleted.", "No images are stored yet.")
}

// TestPageClearConfirm: Clear cache on the properties page leads to a confirmation page, which changes
// nothing; its form clears.
func TestPageClearConfirm(t *testing.T) {
	st := newStack(t)
	uploadForm(t, st, "k", "k.png", apptest.PNGImage(t, 1))
	apptest.ReadKey(t, st.Backend.URL(), "k")
	wantPage(t, "properties", get(t, st.Backend.URL()+"/cache_properties"), http.StatusOK,
		`<form method="get" action="/cache_properties/clear">`, `Clear cache…</button>`)
	r := get(t, st.Backend.URL()+"/cache_properties/clear")
	wantPage(t, "confirm", r, http.StatusOK, "<h1>Clear the cache</h1>", "Remove all 1 item (",
		`<form method="post" action="/cache_properties/clear" class="actions">`, `name="csrf" value="`+apptest.Token+`"`,
		`<a class="cancel" href="/cache_properties">Cancel</a>`)
	if n := apptest.CacheStats(t, st).Items; n != 1 {
		t.Fatalf("the confirmation page changed the cache: %d items, want 1", n)
	}
	if r := postForm(t, st.Backend.URL()+"/cache_properties/clear", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("clear = %d", r.Status)
	}
	if n := apptest.CacheStats(t, st).Items; n != 0 {
		t.Errorf("cache after clear: %d items, want 0", n)
	}
}
