package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"imgcache/app/apptest"
)

// TestThumb: /thumb/<key> answers the stored bytes with their type, safely and briefly cacheable, and
// without touching the cache; a browser holding the current ETag gets a 304.
func TestThumb(t *testing.T) {
	st := newStack(t)
	const key = "a/../b c?#%"
	img := apptest.PNGImage(t, 42)
	if status, a := apptest.Upload(t, st.Backend.URL(), key, img); status != 200 {
		t.Fatalf("upload = %d %+v", status, a)
	}
	thumb := st.Backend.URL() + "/thumb/" + url.PathEscape(key)
	before := apptest.CacheStats(t, st)

	r := get(t, thumb)
	if r.Status != http.StatusOK || r.Body != string(img) {
		t.Fatalf("GET thumb = %d with %d bytes, want 200 with the %d stored bytes", r.Status, len(r.Body), len(img))
	}
	headers := map[string]string{
		"Content-Type":            "image/png",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "private, max-age=60",
		"Content-Security-Policy": "default-src 'none'; sandbox",
	}
	for h, want := range headers {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	etag := r.Header.Get("ETag")
	if len(etag) < 10 || !strings.HasPrefix(etag, `"`) {
		t.Errorf("ETag = %q, want a quoted tag", etag)
	}
	if after := apptest.CacheStats(t, st); after.Gets != before.Gets || after.Items != before.Items {
		t.Errorf("a thumbnail went through the cache: gets %d → %d, items %d → %d", before.Gets, after.Gets, before.Items, after.Items)
	}

	tests := []struct {
		name, path  string
		ifNoneMatch string
		status      int
	}{
		{"current etag", "/thumb/" + url.PathEscape(key), etag, http.StatusNotModified},
		{"old etag", "/thumb/" + url.PathEscape(key), `"0123456789abcdef"`, http.StatusOK},
		{"unknown key", "/thumb/nope", "", http.StatusNotFound},
		{"empty key", "/thumb/", "", http.StatusBadRequest},
		{"control character", "/thumb/a%01", "", http.StatusBadRequest},
		{"climbing out", "/thumb/..%2F..%2Fetc%2Fpasswd", "", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, st.Backend.URL()+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", tt.ifNoneMatch)
			}
			resp, err := apptest.NoRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}

	// A new upload is a new object: the old tag no longer matches.
	if status, _ := apptest.Upload(t, st.Backend.URL(), key, apptest.PNGImage(t, 43)); status != 200 {
		t.Fatal("second upload failed")
	}
	if r := get(t, thumb); r.Header.Get("ETag") == etag || r.Body != string(apptest.PNGImage(t, 43)) {
		t.Errorf("after a new upload: ETag %q (was %q), %d bytes; want a new tag and the new image", r.Header.Get("ETag"), etag, len(r.Body))
	}
}
