package app_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"imgcache/app/apptest"

	"imgcache/database"
	"imgcache/database/dbtest"
)

func TestAPIWalk(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		st := apptest.StartStack(t, dsn, nil)
		base := st.Backend.URL()
		keys := []string{"cat", "a/b/../c", "with space?&=#", "ünïcødé", "UPPER", strings.Repeat("k", 255)}
		for i, k := range keys {
			status, a := apptest.Upload(t, base, k, apptest.PNGImage(t, i))
			if status != 200 || a.Success != "true" || a.Key != k {
				t.Fatalf("upload %q = %d %+v, want 200 with the key echoed", k, status, a)
			}
		}
		_, a := apptest.Call(t, "POST", base+"/api/list_keys", "", nil)
		want := append([]string(nil), keys...)
		sort.Strings(want)
		if strings.Join(a.Keys, "\n") != strings.Join(want, "\n") {
			t.Errorf("list_keys = %q, want %q", a.Keys, want)
		}
		for round := range 2 { // the first read fills the cache, the second hits it
			for i, k := range keys {
				status, a := apptest.ReadKey(t, base, k)
				got, _ := base64.StdEncoding.DecodeString(a.Content)
				if status != 200 || a.Key != k || !bytes.Equal(got, apptest.PNGImage(t, i)) {
					t.Errorf("round %d: key %q = %d, key %q, %d bytes; want 200 and image %d", round, k, status, a.Key, len(got), i)
				}
			}
		}
		// GET works on the two read endpoints too.
		if status, _ := apptest.Call(t, "GET", base+"/api/list_keys", "", nil); status != 200 {
			t.Errorf("GET list_keys = %d", status)
		}
		// Replacing an image: the next read sees the new bytes, and the old file is gone.
		if status, _ := apptest.Upload(t, base, "cat", apptest.PNGImage(t, 100)); status != 200 {
			t.Fatalf("re-upload = %d", status)
		}
		_, a = apptest.ReadKey(t, base, "cat")
		if got, _ := base64.StdEncoding.DecodeString(a.Content); !bytes.Equal(got, apptest.PNGImage(t, 100)) {
			t.Errorf("read after re-upload returned the old image")
		}
		files, _ := filepath.Glob(filepath.Join(st.DataDir, "images", "*"))
		if len(files) != len(keys) {
			t.Errorf("%d files in the image folder, want %d (no orphan after a replace): %v", len(files), len(keys), files)
		}
		if status, a := apptest.ReadKey(t, base, "dog"); status != 404 || !strings.Contains(a.Error.Message, `"dog"`) {
			t.Errorf("unknown key = %d %q, want 404 naming the key", status, a.Error.Message)
		}
		if status, _ := apptest.Call(t, "POST", base+"/api/delete_all", "", nil); status != 200 {
			t.Fatalf("delete_all = %d", status)
		}
		if _, a := apptest.Call(t, "POST", base+"/api/list_keys", "", nil); len(a.Keys) != 0 {
			t.Errorf("keys after delete_all = %q, want none", a.Keys)
		}
		if status, _ := apptest.ReadKey(t, base, "cat"); status != 404 {
			t.Errorf("read after delete_all = %d, want 404 (not a cached copy)", status)
		}
		files, _ = filepath.Glob(filepath.Join(st.DataDir, "images", "*"))
		if len(files) != 0 {
			t.Errorf("files left after delete_all: %v", files)
		}
	})
}

func TestAPIBadInput(t *testing.T) {
	st := apptest.StartStack(t, dbtest.DSN(t, database.SQLite), nil)
	base := st.Backend.URL()
	if status, _ := apptest.Upload(t, base, "keep", apptest.PNGImage(t, 1)); status != 200 {
		t.Fatalf("seed upload = %d", status)
	}
	form := func(fields map[string]string, name string, file []byte) ([]byte, string) {
		b, ct := apptest.MultipartBody(t, fields, name, file)
		return b.Bytes(), ct
	}
	png := apptest.PNGImage(t, 2)
	tests := []struct {
		name, method, path string
		body               []byte
		contentType        string
		want               int
		wantMsg            string
	}{
		{name: "empty key", body: must(form(map[string]string{"key": ""}, "a.png", png)), want: 400, wantMsg: "empty"},
		{name: "300-byte key", body: must(form(map[string]string{"key": strings.Repeat("k", 300)}, "a.png", png)), want: 400, wantMsg: "300 bytes"},
		{name: "control character in key", body: must(form(map[string]string{"key": "a\x07b"}, "a.png", png)), want: 400, wantMsg: "control character"},
		{name: "newline in key", body: must(form(map[string]string{"key": "a\nb"}, "a.png", png)), want: 400, wantMsg: "control character"},
		{name: "invalid UTF-8 key", body: must(form(map[string]string{"key": "a\xffb"}, "a.png", png)), want: 400, wantMsg: "UTF-8"},
		{name: "missing key", body: must(form(nil, "a.png", png)), want: 400, wantMsg: `"key"`},
		{name: "missing file", body: must(form(map[string]string{"key": "new"}, "", nil)), want: 400, wantMsg: `"file"`},
		{name: "empty file", body: must(form(map[string]string{"key": "new"}, "a.png", []byte{})), want: 400, wantMsg: "empty"},
		{name: "text named .png", body: must(form(map[string]string{"key": "new"}, "a.png", []byte("hello, I am text"))), want: 415, wantMsg: "not a PNG"},
		{name: "malformed multipart", body: []byte("--xyz\r\nbroken"), contentType: "multipart/form-data; boundary=xyz", want: 400, wantMsg: "multipart"},
		{name: "not multipart", body: []byte(`{"key":"a"}`), contentType: "application/json", want: 400, wantMsg: "multipart"},
		{name: "key only in the URL query", path: "/api/upload?key=new", body: must(form(nil, "a.png", png)), want: 400, wantMsg: "URL query"},
		{name: "40 MiB body", body: must(form(map[string]string{"key": "new"}, "a.png", append(append([]byte{}, png...), make([]byte, 40<<20)...))), want: 413, wantMsg: "limit"},
		{name: "wrong method on upload", method: "GET", want: 405, wantMsg: "not allowed"},
		{name: "wrong method on delete_all", method: "GET", path: "/api/delete_all", want: 405, wantMsg: "not allowed"},
		{name: "unknown endpoint", path: "/api/nope", want: 404, wantMsg: "no such endpoint"},
		{name: "unknown key", path: "/api/key/nope", want: 404, wantMsg: `"nope"`},
		{name: "empty key in path", path: "/api/key/", want: 400, wantMsg: "empty"},
		{name: "traversal key is just a key", path: "/api/key/..%2F..%2Fetc%2Fpasswd", want: 404, wantMsg: "etc/passwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path, ct := tt.method, tt.path, tt.contentType
			if method == "" {
				method = "POST"
			}
			if path == "" {
				path = "/api/upload"
			}
			if ct == "" && len(tt.body) > 0 {
				ct = "multipart/form-data; boundary=" + boundary(tt.body)
			}
			status, a := apptest.Call(t, method, base+path, ct, tt.body)
			if status != tt.want || !strings.Contains(a.Error.Message, tt.wantMsg) {
				t.Errorf("%s %s = %d %q; want %d with a message containing %q", method, path, status, a.Error.Message, tt.want, tt.wantMsg)
			}
		})
	}
	t.Run("badly escaped key in path", func(t *testing.T) {
		// net/http refuses to send this URL, so write the request by hand.
		conn, err := net.Dial("tcp", st.Backend.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/key/%%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a apptest.APIAnswer
		json.NewDecoder(resp.Body).Decode(&a)
		if resp.StatusCode != 400 || !strings.Contains(a.Error.Message, "escaped") {
			t.Errorf("POST /api/key/%%zz = %d %q, want 400 about escaping", resp.StatusCode, a.Error.Message)
		}
	})
	// Nothing above changed what is stored.
	_, a := apptest.Call(t, "POST", base+"/api/list_keys", "", nil)
	if strings.Join(a.Keys, ",") != "keep" {
		t.Errorf("keys after bad input = %q, want [keep]", a.Keys)
	}
	files, _ := filepath.Glob(filepath.Join(st.DataDir, "images", "*"))
	if len(files) != 1 {
		t.Errorf("image folder after bad input holds %v, want one file", files)
	}
	// Nothing was written outside the data folder either: the only entries are the images folder and the database.
	entries, _ := os.ReadDir(st.DataDir)
	for _, e := range entries {
		if e.Name() != "images" {
			t.Errorf("unexpected entry %q in the data folder", e.Name())
		}
	}
}

func must(b []byte, ct string) []byte { return b }

// boundary recovers the boundary of a body built by apptest.MultipartBody ("--" + boundary + "\r\n" ...).
func boundary(body []byte) string {
	line, _, _ := bytes.Cut(body, []byte("\r\n"))
	return strings.TrimPrefix(string(line), "--")
}

func TestMetrics(t *testing.T) {
	st := apptest.StartStack(t, dbtest.DSN(t, database.SQLite), nil)
	base := st.Backend.URL()
	apptest.Upload(t, base, "a/b", apptest.PNGImage(t, 1))
	apptest.ReadKey(t, base, "a/b") // disk
	apptest.ReadKey(t, base, "a/b") // cache
	apptest.ReadKey(t, base, "nope")
	status, body := apptest.Do(t, "GET", base+"/metrics", "", nil)
	if status != 200 {
		t.Fatalf("GET /metrics = %d", status)
	}
	for _, want := range []string{
		`imgcache_http_requests_total{route="/api/upload",service="backend",status="200"} 1`,
		`imgcache_http_requests_total{route="/api/key/",service="backend",status="200"} 2`,
		`imgcache_http_requests_total{route="/api/key/",service="backend",status="404"} 1`,
		`imgcache_image_reads_total{service="backend",source="cache"} 1`,
		`imgcache_image_reads_total{service="backend",source="disk"} 1`,
		`imgcache_database_errors_total{service="backend"} 0`,
		`imgcache_db_queries_total{op="get_images",service="backend"} 3`,
		`imgcache_db_queries_total{op="put_images",service="backend"} 1`,
		`imgcache_db_batched_total{op="get_images",service="backend"} 3`,
		`imgcache_db_batched_total{op="put_images",service="backend"} 1`,
		`imgcache_storage_gets_total{service="backend"} 1`,
		`imgcache_http_request_duration_seconds_bucket{route="/api/upload",service="backend",status="200",le="+Inf"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
