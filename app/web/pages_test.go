package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"html"
	"image"
	_ "image/png"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"imgcache/app/apptest"

	"imgcache/app"
	"imgcache/database"
	"imgcache/database/dbtest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// navLinks are the links every page's navigation bar must carry.
var navLinks = []string{
	`<nav aria-label="Main">`,
	`<li><a href="/"`, `>Home</a></li>`,
	`<li><a href="/image"`, `>View image</a></li>`,
	`<li><a href="/upload_image"`, `>Upload</a></li>`,
	`<li><a href="/keys_list"`, `>Keys</a></li>`,
	`<li><a href="/cache_properties"`, `>Cache properties</a></li>`,
	`<li><a href="/cache_stats"`, `>Cache statistics</a></li>`,
	`<li><a href="/pool"`, `>Memcache pool</a></li>`,
	`<li><a href="/reports"`, `>Benchmarks</a></li>`,
}

func get(t *testing.T, url string) apptest.Response {
	t.Helper()
	return apptest.Request(t, http.MethodGet, url, "", nil)
}

// postForm posts a page form, with the form token unless v has one.
func postForm(t *testing.T, url string, v url.Values) apptest.Response {
	t.Helper()
	if !v.Has("csrf") {
		v = maps.Clone(v)
		if v == nil {
			v = map[string][]string{}
		}
		v.Set("csrf", apptest.Token)
	}
	return apptest.Request(t, http.MethodPost, url, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

// uploadForm posts the upload page's form.
func uploadForm(t *testing.T, st *apptest.Stack, key, fileName string, file []byte) apptest.Response {
	t.Helper()
	body, ct := apptest.MultipartBody(t, map[string]string{"key": key}, fileName, file)
	return apptest.Request(t, http.MethodPost, st.Backend.URL()+"/upload_image", ct, body)
}

// wantPage checks a page's status, its layout and that it contains every string of want.
func wantPage(t *testing.T, name string, r apptest.Response, status int, want ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status = %d, want %d; body:\n%s", name, r.Status, status, r.Body)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type = %q, want text/html", name, ct)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("%s: Content-Security-Policy = %q, want default-src 'self'", name, csp)
	}
	for _, w := range append(navLinks[:len(navLinks):len(navLinks)], want...) {
		if !strings.Contains(r.Body, w) {
			t.Errorf("%s: page lacks %q; body:\n%s", name, w, r.Body)
		}
	}
}

// esc escapes s as html/template escapes text.
var esc = strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "+", "&#43;").Replace

func newStack(t *testing.T) *apptest.Stack {
	t.Helper()
	return startStack(t, dbtest.DSN(t, database.SQLite), nil)
}

func TestPagesGET(t *testing.T) {
	st := newStack(t)
	if r := uploadForm(t, st, "cat", "cat.png", apptest.PNGImage(t, 1)); r.Status != http.StatusSeeOther {
		t.Fatalf("upload = %d: %s", r.Status, r.Body)
	}
	tests := []struct {
		path string
		want []string
	}{
		{"/", []string{`<title>imgcache</title>`, `aria-current="page">Home`, "Keys stored</dt><dd>1</dd>", "Items in the cache", "Hit rate", "Least Recently Used"}},
		{"/image", []string{`aria-current="page">View image`, `<form class="inline" method="get" action="/image">`, `name="key"`}},
		{"/upload_image", []string{`aria-current="page">Upload`, `enctype="multipart/form-data"`, `type="file"`}},
		{"/keys_list", []string{`aria-current="page">Keys`, `<td class="key"><a href="/image?key=cat">cat</a>`, "1 key, ", `<img src="/thumb/cat" alt="" loading="lazy"`}},
		{"/cache_properties", []string{`aria-current="page">Cache properties`, "10 MB", "Least Recently Used", "never: these are the cache's built-in defaults", `action="/cache_properties/clear"`, "Clear cache"}},
		{"/cache_stats", []string{`aria-current="page">Cache statistics`, "No statistics yet", `src="/cache_stats/chart/hit-rate.png"`, "The cache now"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := get(t, st.Backend.URL()+tt.path)
			wantPage(t, tt.path, r, http.StatusOK, tt.want...)
			if strings.Contains(r.Body, "unreachable") {
				t.Errorf("%s says the cache is unreachable while it runs", tt.path)
			}
		})
	}
}

func TestPageUploadThenView(t *testing.T) {
	st := newStack(t)
	key := `cat & "dog"/1?#+`
	img := apptest.PNGImage(t, 7)
	r := uploadForm(t, st, key, "cat.png", img)
	want := "/image?key=" + url.QueryEscape(key) + "&uploaded=1"
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
		t.Fatalf("upload = %d, Location %q; want 303 to %q; body:\n%s", r.Status, r.Header.Get("Location"), want, r.Body)
	}
	src := `src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(img) + `"`
	size := len(img)
	r = get(t, st.Backend.URL()+want)
	wantPage(t, "first view", r, http.StatusOK, "from disk", "Uploaded.", src, "image/png", "4 × 4 pixels", esc(key))
	if !strings.Contains(r.Body, "<dt>Size</dt><dd>"+strconv.Itoa(size)+" bytes</dd>") {
		t.Errorf("first view lacks the size %d bytes; body:\n%s", size, r.Body)
	}
	if strings.Contains(r.Body, "from cache") {
		t.Errorf("first view after an upload says from cache")
	}

	// The keys list links to the image; following the link serves it from the cache now.
	r = get(t, st.Backend.URL()+"/keys_list")
	m := regexp.MustCompile(`<a href="(/image\?key=[^"]*)">`).FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("keys list has no link to an image:\n%s", r.Body)
	}
	r = get(t, st.Backend.URL()+html.UnescapeString(m[1]))
	wantPage(t, "second view", r, http.StatusOK, "from cache", src)
	if strings.Contains(r.Body, "Uploaded.") {
		t.Errorf("second view shows the upload message without ?uploaded=1")
	}

	// POST /image, as the original's form did, redirects to the GET form of the page.
	r = postForm(t, st.Backend.URL()+"/image", url.Values{"key": {key}})
	if want := "/image?key=" + url.QueryEscape(key); r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
		t.Errorf("POST /image = %d, Location %q; want 303 to %q", r.Status, r.Header.Get("Location"), want)
	}
}

func TestPageKeysList(t *testing.T) {
	st := newStack(t)
	r := get(t, st.Backend.URL()+"/keys_list")
	wantPage(t, "empty", r, http.StatusOK, "No images are stored yet.")
	big := bytes.Repeat([]byte{0}, 3000)
	copy(big, apptest.PNGImage(t, 1)) // a PNG header is all that upload judges
	uploadForm(t, st, "small", "s.png", apptest.PNGImage(t, 2))
	uploadForm(t, st, "big", "b.png", big)
	small := len(apptest.PNGImage(t, 2))
	r = get(t, st.Backend.URL()+"/keys_list")
	wantPage(t, "two keys", r, http.StatusOK,
		`<a href="/image?key=big">big</a></td><td class="num" title="3,000 bytes">2.9 KB</td><td class="nowrap wide-only">image/png</td>`,
		`<a href="/image?key=small">small</a></td><td class="num" title="`+strconv.Itoa(small)+` bytes">`+strconv.Itoa(small)+` bytes</td>`,
		"2 keys, "+humanKB(3000+small)+" in all")
}

// humanKB writes n bytes as the pages do between 1 KB and 1 MB.
func humanKB(n int) string {
	return strings.TrimSuffix(strconv.FormatFloat(float64(n)/1024, 'f', 1, 64), ".0") + " KB"
}

func TestPagePropertiesChange(t *testing.T) {
	st := newStack(t)
	db := apptest.OpenDB(t, st.DSN)
	tests := []struct {
		capacity, policy string
		wantMB           int
		wantPolicy       string
	}{
		{"100", "Random", 100, "Random Replacement"},
		{"5", "LRU", 5, "Least Recently Used"},
		{" 7 ", "Random Replacement", 7, "Random Replacement"},
		{"2048", "Least Recently Used", 2048, "Least Recently Used"},
		{"0", "lru", 0, "Least Recently Used"},
	}
	for _, tt := range tests {
		t.Run(tt.capacity+"/"+tt.policy, func(t *testing.T) {
			r := postForm(t, st.Backend.URL()+"/cache_properties", url.Values{"capacity": {tt.capacity}, "policy": {tt.policy}})
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/cache_properties?saved=1" {
				t.Fatalf("POST = %d, Location %q; want 303 to /cache_properties?saved=1; body:\n%s", r.Status, r.Header.Get("Location"), r.Body)
			}
			row, err := db.LatestCacheProperties(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if row.MaxCapacityMB != tt.wantMB || row.Policy != tt.wantPolicy {
				t.Errorf("row = %d MB %q, want %d MB %q", row.MaxCapacityMB, row.Policy, tt.wantMB, tt.wantPolicy)
			}
			if s := apptest.CacheStats(t, st); s.CapacityMB != int64(tt.wantMB) || s.Policy != tt.wantPolicy {
				t.Errorf("memcache stats = %d MB %q, want %d MB %q", s.CapacityMB, s.Policy, tt.wantMB, tt.wantPolicy)
			}
			r = get(t, st.Backend.URL()+"/cache_properties?saved=1")
			wantPage(t, "after save", r, http.StatusOK, "Saved. The cache applied the new settings.",
				"<dt>Capacity</dt><dd>"+strconv.Itoa(tt.wantMB)+" MB", "<dt>Replacement policy</dt><dd>"+tt.wantPolicy, formatUTC(row.CreatedAt))
		})
	}

	t.Run("clear", func(t *testing.T) {
		postForm(t, st.Backend.URL()+"/cache_properties", url.Values{"capacity": {"10"}, "policy": {"LRU"}})
		uploadForm(t, st, "k", "k.png", apptest.PNGImage(t, 3))
		get(t, st.Backend.URL()+"/image?key=k") // miss: fills the cache
		if n := apptest.CacheStats(t, st).Items; n != 1 {
			t.Fatalf("cache holds %d items before clearing, want 1", n)
		}
		r := postForm(t, st.Backend.URL()+"/cache_properties/clear", nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/cache_properties?cleared=1" {
			t.Fatalf("clear = %d, Location %q", r.Status, r.Header.Get("Location"))
		}
		if n := apptest.CacheStats(t, st).Items; n != 0 {
			t.Errorf("cache holds %d items after clearing, want 0", n)
		}
		wantPage(t, "after clear", get(t, st.Backend.URL()+"/cache_properties?cleared=1"), http.StatusOK, "The cache was cleared.")
	})

	t.Run("flash is fixed text", func(t *testing.T) {
		r := get(t, st.Backend.URL()+"/cache_properties?saved=%3Cscript%3E")
		wantPage(t, "odd flash", r, http.StatusOK)
		if strings.Contains(r.Body, "script") || strings.Contains(r.Body, `class="notice ok"`) {
			t.Errorf("an unknown flash parameter reached the page:\n%s", r.Body)
		}
	})
}

func formatUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// TestPageBadInput: every bad input gets its message on the page with a 4xx and changes nothing.
func TestPageBadInput(t *testing.T) {
	const maxUpload = 4096
	st := startStack(t, dbtest.DSN(t, database.SQLite), func(c *app.Config) { c.MaxUpload = maxUpload })
	db := apptest.OpenDB(t, st.DSN)
	ctx := context.Background()
	if r := uploadForm(t, st, "existing", "e.png", apptest.PNGImage(t, 1)); r.Status != http.StatusSeeOther {
		t.Fatalf("upload = %d", r.Status)
	}
	if r := postForm(t, st.Backend.URL()+"/cache_properties", url.Values{"capacity": {"20"}, "policy": {"LRU"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("properties = %d", r.Status)
	}
	props, err := db.LatestCacheProperties(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// emptyFile is what a browser sends when no file was chosen: a file part without a file name.
	emptyFile := func() (io.Reader, string) {
		return strings.NewReader("--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + apptest.Token + "\r\n" +
			"--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n" +
			"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--B--\r\n"), "multipart/form-data; boundary=B"
	}
	upload := func(key, name string, file []byte) func(t *testing.T) (io.Reader, string) {
		return func(t *testing.T) (io.Reader, string) {
			return apptest.MultipartBody(t, map[string]string{"key": key}, name, file)
		}
	}
	props2 := func(capacity, policy string) func(t *testing.T) (io.Reader, string) {
		return func(t *testing.T) (io.Reader, string) {
			return strings.NewReader(url.Values{"capacity": {capacity}, "policy": {policy}, "csrf": {apptest.Token}}.Encode()), "application/x-www-form-urlencoded"
		}
	}
	png := apptest.PNGImage(t, 9)
	tests := []struct {
		name   string
		method string
		path   string
		body   func(t *testing.T) (io.Reader, string)
		status int
		want   []string // on the page, HTML-escaped by the test
	}{
		{"upload empty key", "POST", "/upload_image", upload("", "a.png", png), 400, []string{"The key is empty"}},
		{"upload 300-byte key", "POST", "/upload_image", upload(strings.Repeat("k", 300), "a.png", png), 400, []string{"The key is 300 bytes long; the limit is 255"}},
		{"upload control character", "POST", "/upload_image", upload("a\x01b", "a.png", png), 400, []string{"The key contains the control character U+0001"}},
		{"upload missing file", "POST", "/upload_image", upload("k", "", nil), 400, []string{"Choose an image file to upload."}},
		{"upload no file chosen", "POST", "/upload_image", func(*testing.T) (io.Reader, string) { return emptyFile() }, 400, []string{"Choose an image file to upload."}},
		{"upload not an image", "POST", "/upload_image", upload("k", "fake.png", []byte("this is text, not a PNG")), 415, []string{"The file is not a PNG, JPEG, GIF or WebP image"}},
		{"upload empty file", "POST", "/upload_image", upload("k", "a.png", []byte{}), 400, []string{"The file is empty"}},
		{"upload not multipart", "POST", "/upload_image", props2("1", "LRU"), 400, []string{"Send a multipart/form-data body"}},
		{"upload over max-upload", "POST", "/upload_image", upload("k", "big.png", append(png, make([]byte, maxUpload)...)), 413, []string{"The file is 4.1 KB; the limit is 4 KB"}},
		{"capacity -1", "POST", "/cache_properties", props2("-1", "LRU"), 400, []string{`The capacity must be from 0 to 2048 MB; "-1" is out of range.`}},
		{"capacity abc", "POST", "/cache_properties", props2("abc", "LRU"), 400, []string{`The capacity must be a whole number of MB from 0 to 2048; "abc" is not.`}},
		{"capacity 99999", "POST", "/cache_properties", props2("99999", "LRU"), 400, []string{`"99999" is out of range`}},
		{"capacity 1.5", "POST", "/cache_properties", props2("1.5", "LRU"), 400, []string{`"1.5" is not`}},
		{"capacity huge", "POST", "/cache_properties", props2("99999999999999999999999", "LRU"), 400, []string{"is out of range"}},
		{"capacity empty", "POST", "/cache_properties", props2("", "LRU"), 400, []string{"Enter a capacity"}},
		{"policy unknown", "POST", "/cache_properties", props2("10", "FIFO"), 400, []string{`Unknown replacement policy "FIFO"`}},
		{"policy empty", "POST", "/cache_properties", props2("10", ""), 400, []string{"Choose a replacement policy"}},
		{"both bad", "POST", "/cache_properties", props2("abc", "<b>x</b>"), 400, []string{`"abc" is not`, `Unknown replacement policy "<b>x</b>"`}},
		{"view empty key", "GET", "/image?key=", nil, 400, []string{"The key is empty"}},
		{"view 300-byte key", "GET", "/image?key=" + strings.Repeat("k", 300), nil, 400, []string{"The key is 300 bytes long"}},
		{"view control character", "GET", "/image?key=a%00b", nil, 400, []string{"control character U+0000"}},
		{"view unknown key", "GET", "/image?key=" + url.QueryEscape("no<such>key"), nil, 404, []string{`No image is stored under key "no<such>key"`}},
		{"unknown chart", "GET", "/cache_stats/chart/pie.png", nil, 404, []string{`There is no chart "pie.png".`}},
		{"unknown static", "GET", "/static/../app.go", nil, 404, []string{"There is no"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			var ct string
			if tt.body != nil {
				body, ct = tt.body(t)
			}
			r := apptest.Request(t, tt.method, st.Backend.URL()+tt.path, ct, body)
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = esc(w)
			}
			wantPage(t, tt.name, r, tt.status, append(want, `class="notice err" role="alert"`)...)
			if tt.path == "/upload_image" && !strings.Contains(r.Body, `action="/upload_image"`) {
				t.Errorf("the upload form is not shown again with its error")
			}
			if tt.path == "/cache_properties" && !strings.Contains(r.Body, `action="/cache_properties"`) {
				t.Errorf("the properties form is not shown again with its error")
			}
			if n, err := db.CountImages(ctx); err != nil || n != 1 {
				t.Errorf("key count = %d, %v after a bad input; want 1", n, err)
			}
			if p, err := db.LatestCacheProperties(ctx); err != nil || p.ID != props.ID {
				t.Errorf("newest properties row = %+v, %v after a bad input; want %+v", p, err, props)
			}
			if s := apptest.CacheStats(t, st); s.CapacityMB != 20 {
				t.Errorf("cache capacity = %d MB after a bad input, want 20", s.CapacityMB)
			}
		})
	}
}

// TestPageUnknownKey: the image page of a key with no image says so and links to the keys and to the
// upload form, which it fills in with the key.
func TestPageUnknownKey(t *testing.T) {
	st := newStack(t)
	r := get(t, st.Backend.URL()+"/image?key="+url.QueryEscape("no<such>key"))
	wantPage(t, "unknown key", r, http.StatusNotFound, esc(`No image is stored under key "no<such>key"`),
		`<a href="/keys_list">list of keys</a>`, `<a href="/upload_image?key=no%3csuch%3ekey">upload an image</a> under this key`)
	r = get(t, st.Backend.URL()+"/upload_image?key="+url.QueryEscape("no<such>key"))
	wantPage(t, "upload form", r, http.StatusOK, `<input id="key" name="key" value="no&lt;such&gt;key"`)
	if r := get(t, st.Backend.URL()+"/image?key=a%00b"); strings.Contains(r.Body, "upload an image</a> under this key") {
		t.Errorf("a bad key's page offers to upload under it")
	}
}

// TestPageBodyTooLarge: a body over the server's limit gets the upload form back with a 413. The server
// answers before reading the body and closes the connection, so the request is written in one piece on
// a raw connection first: a client that writes the body after the headers can see a broken pipe instead.
func TestPageBodyTooLarge(t *testing.T) {
	const maxUpload = 4096
	st := startStack(t, dbtest.DSN(t, database.SQLite), func(c *app.Config) { c.MaxUpload = maxUpload })
	body, ct := apptest.MultipartBody(t, map[string]string{"key": "k"}, "big.png", append(apptest.PNGImage(t, 1), make([]byte, 80<<10)...))
	conn, err := net.Dial("tcp", st.Backend.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := fmt.Sprintf("POST /upload_image HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, body.Len())
	if _, err := conn.Write(append([]byte(req), body.Bytes()...)); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	wantPage(t, "too large", apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, http.StatusRequestEntityTooLarge,
		"The request body is over the limit of 68 KB (images up to 4 KB)", `action="/upload_image"`, `id="file-hint">PNG, JPEG, GIF or WebP, up to 4 KB.`)
	if n, err := apptest.OpenDB(t, st.DSN).CountImages(context.Background()); err != nil || n != 0 {
		t.Errorf("key count = %d, %v after a refused upload; want 0", n, err)
	}
}

func TestPageErrors(t *testing.T) {
	st := newStack(t)
	tests := []struct {
		name, method, path string
		status             int
		want               []string
		allow              string
	}{
		{"unknown path", "GET", "/no/such/page", 404, []string{"<title>404 Not Found · imgcache</title>", "There is no page at &#34;/no/such/page&#34;."}, ""},
		{"unknown path escapes", "GET", "/%3Cb%3Ex", 404, []string{"&lt;b&gt;x"}, ""},
		{"unknown path POST", "POST", "/nope", 404, []string{"404 Not Found"}, ""},
		{"POST home", "POST", "/", 405, []string{"405 Method Not Allowed", "POST is not allowed on /; use GET or HEAD."}, "GET, HEAD"},
		{"DELETE keys", "DELETE", "/keys_list", 405, []string{"405 Method Not Allowed"}, "GET, HEAD"},
		{"DELETE clear", "DELETE", "/cache_properties/clear", 405, []string{"use GET or HEAD or POST"}, "GET, HEAD, POST"},
		{"PUT delete", "PUT", "/keys_list/delete", 405, []string{"405 Method Not Allowed"}, "GET, HEAD, POST"},
		{"POST thumb", "POST", "/thumb/k", 405, []string{"405 Method Not Allowed"}, "GET, HEAD"},
		{"PUT upload", "PUT", "/upload_image", 405, []string{"405 Method Not Allowed"}, "GET, HEAD, POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := apptest.Request(t, tt.method, st.Backend.URL()+tt.path, "", nil)
			wantPage(t, tt.name, r, tt.status, tt.want...)
			if got := r.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}

	t.Run("500 leaks nothing", func(t *testing.T) {
		if r := uploadForm(t, st, "gone", "g.png", apptest.PNGImage(t, 1)); r.Status != http.StatusSeeOther {
			t.Fatalf("upload = %d", r.Status)
		}
		files, err := filepath.Glob(filepath.Join(st.DataDir, "images", "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no image files under %s: %v", st.DataDir, err)
		}
		for _, f := range files {
			os.Remove(f)
		}
		r := get(t, st.Backend.URL()+"/image?key=gone")
		wantPage(t, "missing file", r, http.StatusInternalServerError, "Something went wrong on our side.")
		for _, secret := range []string{st.DataDir, filepath.Base(files[0]), "no such file"} {
			if strings.Contains(r.Body, secret) {
				t.Errorf("the 500 page shows %q:\n%s", secret, r.Body)
			}
		}
	})
}

func TestPageStatic(t *testing.T) {
	st := newStack(t)
	r := get(t, st.Backend.URL()+"/")
	m := regexp.MustCompile(`<link rel="stylesheet" href="(/static/style\.css\?v=[0-9a-f]+)">`).FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no stylesheet link on the home page:\n%s", r.Body)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r = apptest.Request(t, method, st.Backend.URL()+m[1], "", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s %s = %d", method, m[1], r.Status)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
			t.Errorf("%s stylesheet Content-Type = %q, want text/css", method, ct)
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s stylesheet Cache-Control = %q, want a year", method, cc)
		}
	}
	if r := get(t, st.Backend.URL()+m[1]); !strings.Contains(r.Body, "nav") {
		t.Errorf("stylesheet body looks wrong: %.80q", r.Body)
	}
	if r := apptest.Request(t, http.MethodHead, st.Backend.URL()+"/keys_list", "", nil); r.Status != http.StatusOK || r.Body != "" {
		t.Errorf("HEAD /keys_list = %d with %d bytes, want 200 and no body", r.Status, len(r.Body))
	}
}

func TestPageStatsCharts(t *testing.T) {
	st := newStack(t)
	slugs := []string{"items", "size", "requests", "hit-rate", "miss-rate"}
	onPage := slugs[:4] // the miss rate is the hit rate's complement: one chart shows both
	checkCharts := func(t *testing.T, query string) {
		t.Helper()
		for _, slug := range slugs {
			r := get(t, st.Backend.URL()+"/cache_stats/chart/"+slug+".png"+query)
			if r.Status != http.StatusOK {
				t.Errorf("chart %s%s = %d: %s", slug, query, r.Status, r.Body)
				continue
			}
			if ct := r.Header.Get("Content-Type"); ct != "image/png" {
				t.Errorf("chart %s Content-Type = %q", slug, ct)
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("chart %s Cache-Control = %q, want no-store", slug, cc)
			}
			cfg, format, err := image.DecodeConfig(strings.NewReader(r.Body))
			if err != nil || format != "png" || cfg.Width != 480 || cfg.Height != 300 {
				t.Errorf("chart %s: %s %dx%d, %v; want a 480x300 png", slug, format, cfg.Width, cfg.Height, err)
			}
		}
	}
	t.Run("no data", func(t *testing.T) {
		checkCharts(t, "")
		r := get(t, st.Backend.URL()+"/cache_stats")
		wantPage(t, "stats", r, http.StatusOK, "No statistics yet", "Lookups since the cache started")
		for _, slug := range onPage {
			if !strings.Contains(r.Body, `<img src="/cache_stats/chart/`+slug+`.png" width="480" height="300"`) {
				t.Errorf("stats page lacks the %s chart", slug)
			}
		}
		if strings.Contains(r.Body, "miss-rate.png") {
			t.Errorf("stats page shows the miss-rate chart beside the hit-rate one")
		}
	})
	t.Run("with data", func(t *testing.T) {
		db := apptest.OpenDB(t, st.DSN)
		now := time.Now().UTC()
		for i := 11; i >= 0; i-- {
			// 40 requests a row: 3 of each 4 hit.
			row := database.StatsRow{CacheSize: 3 << 20, KeyCount: 7, RequestCount: 40, HitCount: 30, MissCount: 10, CreatedAt: now.Add(-time.Duration(i) * 5 * time.Second)}
			if err := db.InsertStats(context.Background(), row); err != nil {
				t.Fatal(err)
			}
		}
		for _, w := range []string{"", "?window=1h", "?window=24h"} {
			checkCharts(t, w)
		}
		r := get(t, st.Backend.URL()+"/cache_stats")
		wantPage(t, "stats", r, http.StatusOK, "12 rows in the window",
			"<dt>Items in the cache</dt><dd>7</dd>", "<dt>Total size of the items</dt><dd>3 MB</dd>",
			"<dt>Hit rate in the last minute</dt><dd>75.0%</dd>", "<dt>Miss rate in the last minute</dt><dd>25.0%</dd>",
			// Each chart's alt text carries its current value; the capacity is the memcache's default.
			`alt="Chart of the items in the cache over the last 10 minutes; now 7."`,
			`alt="Chart of the total size of the cached items over the last 10 minutes; now 3 MB, of a capacity of 10 MB (the dashed line)."`,
			`alt="Chart of the requests served per second over the last 10 minutes; latest `,
			`alt="Chart of the hit rate (hits over lookups) over the last 10 minutes; latest 75.0% hits, 25.0% misses."`)
		if strings.Contains(r.Body, "No statistics yet") {
			t.Errorf("the stats page says there is no data")
		}
	})
}

// TestPageStatsWindows: ?window= chooses the span of the page, its charts and its CSV; the page
// reloads itself at the window's pace, and says so, unless ?refresh=off; a bad value is a 400.
func TestPageStatsWindows(t *testing.T) {
	st := newStack(t)
	tests := []struct {
		name   string
		query  string
		status int
		want   []string
		not    []string
	}{
		{"default", "", 200, []string{
			`<meta http-equiv="refresh" content="15">`, "This page reloads itself every 15 seconds.",
			`<a href="/cache_stats?refresh=off">Stop reloading</a>`,
			"The charts cover the last 10 minutes in buckets of 15 seconds", `<a href="/cache_stats" aria-current="true">10 minutes</a>`,
			`<a href="/cache_stats?window=1h">1 hour</a>`, `<a href="/cache_stats?window=24h">24 hours</a>`,
			`src="/cache_stats/chart/size.png"`, `<a href="/cache_stats.csv" download>`}, nil},
		{"1 hour", "?window=1h", 200, []string{
			`<meta http-equiv="refresh" content="30">`, "in buckets of 2 minutes", "over the last 1 hour;",
			`<a href="/cache_stats?window=1h" aria-current="true">1 hour</a>`, `src="/cache_stats/chart/items.png?window=1h"`,
			`<a href="/cache_stats.csv?window=1h" download>`}, nil},
		{"24 hours", "?window=24h", 200, []string{`<meta http-equiv="refresh" content="60">`, "in buckets of 30 minutes", "every 1 minute"}, nil},
		{"refresh off", "?window=1h&refresh=off", 200, []string{"This page does not reload itself.",
			`<a href="/cache_stats?window=1h">Reload it regularly</a>`, `src="/cache_stats/chart/items.png?refresh=off&amp;window=1h"`,
			`<a href="/cache_stats?refresh=off">10 minutes</a>`}, []string{`http-equiv="refresh"`}},
		{"refresh on", "?refresh=on", 200, []string{`<meta http-equiv="refresh" content="15">`}, nil},
		{"unknown window", "?window=7d", 400, []string{esc(`Unknown window "7d": choose 10m, 1h or 24h.`)}, []string{`http-equiv="refresh"`}},
		{"empty window", "?window=", 400, []string{"Unknown window"}, nil},
		{"unknown refresh", "?refresh=sometimes", 400, []string{esc(`Unknown refresh setting "sometimes": choose on or off.`)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, st.Backend.URL()+"/cache_stats"+tt.query)
			wantPage(t, tt.name, r, tt.status, tt.want...)
			for _, n := range tt.not {
				if strings.Contains(r.Body, n) {
					t.Errorf("page has %q", n)
				}
			}
		})
	}
	for _, path := range []string{"/cache_stats/chart/items.png?window=7d", "/cache_stats.csv?window=7d"} {
		if r := get(t, st.Backend.URL()+path); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Unknown window") {
			t.Errorf("GET %s = %d, want 400 saying Unknown window", path, r.Status)
		}
	}
}

// TestStatsCSV: /cache_stats.csv answers the window's rows as an RFC 4180 file to save.
func TestStatsCSV(t *testing.T) {
	st := newStack(t)
	db := apptest.OpenDB(t, st.DSN)
	now := time.Now().UTC().Truncate(time.Microsecond)
	rows := []database.StatsRow{
		{CacheSize: 1 << 20, KeyCount: 1, RequestCount: 10, HitCount: 4, MissCount: 6, CreatedAt: now.Add(-30 * time.Minute)},
		{CacheSize: 2 << 20, KeyCount: 2, RequestCount: 20, HitCount: 15, MissCount: 5, CreatedAt: now.Add(-5 * time.Minute), NodeID: 1},
		{CacheSize: 3 << 20, KeyCount: 3, RequestCount: 30, HitCount: 27, MissCount: 3, CreatedAt: now.Add(-5 * time.Second), NodeID: 2},
	}
	for _, r := range rows {
		if err := db.InsertStats(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	line := func(r database.StatsRow) []string {
		return []string{r.CreatedAt.Format("2006-01-02T15:04:05.000000Z"), strconv.FormatInt(r.CacheSize, 10), strconv.FormatInt(r.KeyCount, 10),
			strconv.FormatInt(r.RequestCount, 10), strconv.FormatInt(r.HitCount, 10), strconv.FormatInt(r.MissCount, 10),
			strconv.FormatInt(r.NodeID, 10)}
	}
	header := []string{"created_at", "cache_size_bytes", "key_count", "request_count", "hit_count", "miss_count", "node_id"}
	tests := []struct {
		name, query string
		want        []database.StatsRow
		file        string
	}{
		{"10 minutes", "", rows[1:], "cache_stats-10m-"},
		{"1 hour", "?window=1h", rows, "cache_stats-1h-"},
		{"one node", "?window=1h&node=2", rows[2:], "cache_stats-1h-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, st.Backend.URL()+"/cache_stats.csv"+tt.query)
			if r.Status != http.StatusOK {
				t.Fatalf("status = %d: %s", r.Status, r.Body)
			}
			if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/csv") {
				t.Errorf("Content-Type = %q, want text/csv", got)
			}
			if got := r.Header.Get("Content-Disposition"); !strings.HasPrefix(got, `attachment; filename="`+tt.file) || !strings.HasSuffix(got, `.csv"`) {
				t.Errorf("Content-Disposition = %q, want an attachment named %s….csv", got, tt.file)
			}
			if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if !strings.HasSuffix(r.Body, "\r\n") || strings.Count(r.Body, "\r\n") != strings.Count(r.Body, "\n") {
				t.Errorf("lines do not all end in CRLF: %q", r.Body)
			}
			got, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
			if err != nil {
				t.Fatalf("not CSV: %v", err)
			}
			want := [][]string{header}
			for _, row := range tt.want {
				want = append(want, line(row))
			}
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("CSV rows = %q, want %q", got, want)
			}
		})
	}
}

// TestPageCacheDown: with the memcache stopped, every page renders and says the cache is unreachable.
func TestPageCacheDown(t *testing.T) {
	st := newStack(t)
	db := apptest.OpenDB(t, st.DSN)
	if r := uploadForm(t, st, "before", "b.png", apptest.PNGImage(t, 1)); r.Status != http.StatusSeeOther {
		t.Fatalf("upload = %d", r.Status)
	}
	st.Memcache.Close()

	for _, path := range []string{"/", "/keys_list", "/image", "/upload_image", "/cache_properties", "/cache_stats", "/image?key=before"} {
		r := get(t, st.Backend.URL()+path)
		wantPage(t, path, r, http.StatusOK, "The cache is unreachable.")
	}
	wantPage(t, "view", get(t, st.Backend.URL()+"/image?key=before"), http.StatusOK, "from disk")
	wantPage(t, "home", get(t, st.Backend.URL()+"/"), http.StatusOK, "unknown: the cache is unreachable")

	if r := uploadForm(t, st, "during", "d.png", apptest.PNGImage(t, 2)); r.Status != http.StatusSeeOther {
		t.Errorf("upload while the cache is down = %d:\n%s", r.Status, r.Body)
	}
	r := postForm(t, st.Backend.URL()+"/cache_properties", url.Values{"capacity": {"64"}, "policy": {"Random"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/cache_properties?saved=pending" {
		t.Fatalf("properties while the cache is down = %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	p, err := db.LatestCacheProperties(context.Background())
	if err != nil || p.MaxCapacityMB != 64 || p.Policy != "Random Replacement" {
		t.Errorf("newest row = %+v, %v; want 64 MB Random Replacement", p, err)
	}
	pending := get(t, st.Backend.URL()+r.Header.Get("Location"))
	wantPage(t, "saved pending", pending, http.StatusOK,
		`<p class="notice warn" role="status">Saved, but the cache could not be told`, "when it restarts", "<dt>Capacity</dt><dd>64 MB")
	if strings.Contains(pending.Body, `class="notice ok"`) {
		t.Errorf("a save the cache was not told of is shown as a success")
	}

	r = postForm(t, st.Backend.URL()+"/cache_properties/clear", nil)
	wantPage(t, "clear", r, http.StatusServiceUnavailable, "The cache is unreachable, so it was not cleared.")
}

// TestPageGolden compares pages of deterministic content with testdata/*.golden; -update rewrites them.
func TestPageGolden(t *testing.T) {
	st := newStack(t)
	uploadForm(t, st, "a <b> & c", "a.png", apptest.PNGImage(t, 1))
	uploadForm(t, st, "zebra", "z.png", apptest.PNGImage(t, 2))
	tests := []struct {
		name   string
		method string
		path   string
		form   url.Values
		status int
	}{
		{"upload_form", "GET", "/upload_image", nil, 200},
		{"keys_list", "GET", "/keys_list", nil, 200},
		{"not_found", "GET", "/missing", nil, 404},
		{"properties_bad_input", "POST", "/cache_properties", url.Values{"capacity": {"abc"}, "policy": {"FIFO"}}, 400},
	}
	stamp := regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC`)
	version := regexp.MustCompile(`\?v=[0-9a-f]+`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r apptest.Response
			if tt.form != nil {
				r = postForm(t, st.Backend.URL()+tt.path, tt.form)
			} else {
				r = apptest.Request(t, tt.method, st.Backend.URL()+tt.path, "", nil)
			}
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d", r.Status, tt.status)
			}
			got := version.ReplaceAllString(stamp.ReplaceAllString(r.Body, "TIME"), "?v=VERSION")
			file := filepath.Join("testdata", "page_"+tt.name+".golden")
			if *updateGolden {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s is missing: run go test -run TestPageGolden -update", file)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (run with -update if the change is intended):\n%s", tt.path, file, got)
			}
		})
	}
}

// TestPageStatsExplainsIntervalOnce: the statistics page explains the statistics interval in one
// paragraph, not two that say the same.
func TestPageStatsExplainsIntervalOnce(t *testing.T) {
	st := newStack(t)
	r := get(t, st.Backend.URL()+"/cache_stats")
	wantPage(t, "stats", r, 200, "those of the whole pool", "The charts cover the last")
	if n := strings.Count(r.Body, "statistics interval"); n != 1 {
		t.Errorf("the page explains the statistics interval %d times, want once; body:\n%s", n, r.Body)
	}
}
