package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"imgcache/app/apptest"

	"imgcache/database"
	"imgcache/database/dbtest"
)

// snapshot is what the backend has stored: rows, objects and the cache's contents.
type snapshot struct {
	rows       []database.Image
	objects    []string
	properties int // cache_properties rows
	items      int
	bytes      int64
	capacityMB int64
}

func takeSnapshot(t *testing.T, st *apptest.Stack, db *database.DB) snapshot {
	t.Helper()
	ctx := context.Background()
	rows, err := db.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(st.DataDir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	var objects []string
	for _, e := range entries {
		objects = append(objects, e.Name())
	}
	var props int
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM cache_properties").Scan(&props); err != nil {
		t.Fatal(err)
	}
	cs := apptest.CacheStats(t, st)
	return snapshot{rows, objects, props, cs.Items, cs.Bytes, cs.CapacityMB}
}

func (s snapshot) equal(o snapshot) bool {
	return slices.EqualFunc(s.rows, o.rows, func(a, b database.Image) bool { return a.Key == b.Key && a.Location == b.Location }) &&
		slices.Equal(s.objects, o.objects) && s.properties == o.properties && s.items == o.items && s.bytes == o.bytes && s.capacityMB == o.capacityMB
}

// rawAnswer is a status and body read from a raw connection.
type rawAnswer struct {
	status int
	body   []byte
}

// raw sends request bytes as they are, for what net/http would refuse to send, and reads the answer.
func raw(t *testing.T, addr, request string) rawAnswer {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second)) // a hung answer fails the test instead of hanging it
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatalf("write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return rawAnswer{resp.StatusCode, body}
}

// hugePNG is a PNG header declaring w x h pixels, with nothing after it.
func hugePNG(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk := append([]byte("IHDR"), ihdr...)
	out := append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 13)
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}

// TestHostileBackend sends the backend every hostile request of the security audit and checks the
// status, that the answer is the JSON failure shape where the contract says so (the API, and anything
// that could not be routed), and that nothing stored changed: rows, objects, cache properties, cache.
func TestHostileBackend(t *testing.T) {
	dsn := dbtest.DSN(t, database.SQLite)
	st := startStack(t, dsn, nil)
	db := apptest.OpenDB(t, dsn)
	base, addr := st.Backend.URL(), st.Backend.Addr()
	if status, _ := apptest.Upload(t, base, "victim", apptest.PNGImage(t, 1)); status != 200 {
		t.Fatal("seed upload failed")
	}
	apptest.ReadKey(t, base, "victim") // fills the cache

	type header = map[string]string
	multipart := func(parts ...[3]string) (string, string) { // name, filename, content
		var b bytes.Buffer
		for _, p := range parts {
			fmt.Fprintf(&b, "--B\r\nContent-Disposition: form-data; name=%q", p[0])
			if p[1] != "" {
				fmt.Fprintf(&b, "; filename=%q", p[1])
			}
			fmt.Fprintf(&b, "\r\n\r\n%s\r\n", p[2])
		}
		b.WriteString("--B--\r\n")
		return b.String(), "multipart/form-data; boundary=B"
	}
	png := string(apptest.PNGImage(t, 5))
	file := func(content string) [3]string { return [3]string{"file", "x.png", content} }
	key := func(k string) [3]string { return [3]string{"key", "", k} }
	token := [3]string{"csrf", "", apptest.Token}
	manyParts := make([][3]string, 0, 201)
	for i := range 200 {
		manyParts = append(manyParts, [3]string{fmt.Sprint("f", i), "", "x"})
	}

	tests := []struct {
		name, method, path string
		header             header
		body, contentType  string
		raw                string // sent as is instead, when set
		want               int
		json               bool // the answer must be the failure envelope
		say                string
	}{
		// Cross-site writes.
		{name: "delete_all from another origin", method: "POST", path: "/api/delete_all", header: header{"Origin": "http://evil.example"}, body: "x=1", contentType: "text/plain", want: 403, json: true, say: "another origin"},
		{name: "delete_all cross-site fetch", method: "POST", path: "/api/delete_all", header: header{"Sec-Fetch-Site": "cross-site"}, want: 403, json: true, say: "another site"},
		{name: "delete_all from a null origin", method: "POST", path: "/api/delete_all", header: header{"Origin": "null"}, want: 403, json: true},
		{name: "delete from another origin", method: "POST", path: "/api/delete/victim", header: header{"Origin": "http://evil.example"}, want: 403, json: true, say: "another origin"},
		{name: "delete cross-site fetch", method: "POST", path: "/api/delete/victim", header: header{"Sec-Fetch-Site": "cross-site"}, want: 403, json: true},
		{name: "upload from another origin", method: "POST", path: "/api/upload", header: header{"Origin": "http://127.0.0.1:1"}, body: fst(multipart(key("victim"), file(png))), contentType: snd(multipart()), want: 403, json: true},
		{name: "properties from another origin", method: "POST", path: "/cache_properties", header: header{"Origin": "http://evil.example"}, body: "capacity=0&policy=LRU&csrf=" + apptest.Token, contentType: "application/x-www-form-urlencoded", want: 403},
		{name: "clear from another origin", method: "POST", path: "/cache_properties/clear", header: header{"Origin": "http://evil.example"}, body: "csrf=" + apptest.Token, contentType: "application/x-www-form-urlencoded", want: 403},
		{name: "upload page from another origin", method: "POST", path: "/upload_image", header: header{"Origin": "http://evil.example"}, body: fst(multipart(token, key("victim"), file(png))), contentType: snd(multipart()), want: 403},
		{name: "properties without the form token", method: "POST", path: "/cache_properties", body: "capacity=0&policy=LRU", contentType: "application/x-www-form-urlencoded", want: 403, say: "Reload the page"},
		{name: "properties with another token", method: "POST", path: "/cache_properties", body: "capacity=0&policy=LRU&csrf=" + strings.Repeat("ab", 32), contentType: "application/x-www-form-urlencoded", want: 403},
		{name: "clear without the form token", method: "POST", path: "/cache_properties/clear", want: 403},
		{name: "delete page form from another origin", method: "POST", path: "/keys_list/delete", header: header{"Origin": "http://evil.example"}, body: "key=victim&csrf=" + apptest.Token, contentType: "application/x-www-form-urlencoded", want: 403},
		{name: "delete page form without the form token", method: "POST", path: "/keys_list/delete", body: "key=victim", contentType: "application/x-www-form-urlencoded", want: 403, say: "Reload the page"},
		{name: "delete-all page form without the form token", method: "POST", path: "/keys_list/delete_all", want: 403},
		{name: "delete-all page form cross-site", method: "POST", path: "/keys_list/delete_all", header: header{"Sec-Fetch-Site": "cross-site"}, body: "csrf=" + apptest.Token, contentType: "application/x-www-form-urlencoded", want: 403},
		{name: "thumbnail path climbing out", method: "GET", path: "/thumb/..%2F..%2Fetc%2Fpasswd", want: 404},
		{name: "upload page without the form token", method: "POST", path: "/upload_image", body: fst(multipart(key("victim"), file(png))), contentType: snd(multipart()), want: 403},
		// DNS rebinding: a page of evil.example whose name now points at this machine is same-origin
		// with it, so its Host names it; and reads are refused too, since such a page could read them.
		{name: "delete_all for a rebound host name", raw: "POST /api/delete_all HTTP/1.1\r\nHost: evil.example:5000\r\nOrigin: http://evil.example:5000\r\nContent-Length: 0\r\n\r\n", want: 421, json: true, say: "host name"},
		{name: "read for a rebound host name", raw: "POST /api/key/victim HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 0\r\n\r\n", want: 421, json: true},
		{name: "page for a rebound host name", raw: "GET /keys_list HTTP/1.1\r\nHost: rebind.evil.example\r\n\r\n", want: 421},
		// Images judged by their headers.
		{name: "png signature then html", method: "POST", path: "/api/upload", body: fst(multipart(key("victim"), file("\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"))), contentType: snd(multipart()), want: 415, json: true},
		{name: "gif polyglot", method: "POST", path: "/api/upload", body: fst(multipart(key("victim"), file("GIF89a/*...*/=alert(1)"))), contentType: snd(multipart()), want: 422, json: true, say: "pixels"},
		{name: "riff without webp", method: "POST", path: "/api/upload", body: fst(multipart(key("victim"), file("RIFF\x00\x00\x00\x00WEBPjunk"))), contentType: snd(multipart()), want: 415, json: true},
		{name: "100000x100000 png", method: "POST", path: "/api/upload", body: fst(multipart(key("victim"), file(string(hugePNG(100000, 100000))))), contentType: snd(multipart()), want: 422, json: true, say: "16384 pixels a side"},
		{name: "16000x16000 png", method: "POST", path: "/api/upload", body: fst(multipart(key("victim"), file(string(hugePNG(16000, 16000))))), contentType: snd(multipart()), want: 422, json: true, say: "megapixels"},
		// Smaller holes.
		{name: "two keys", method: "POST", path: "/api/upload", body: fst(multipart(key("victim"), key("other"), file(png))), contentType: snd(multipart()), want: 400, json: true, say: "twice"},
		{name: "two files", method: "POST", path: "/api/upload", body: fst(multipart(key("victim"), file(png), file(png))), contentType: snd(multipart()), want: 400, json: true, say: "twice"},
		{name: "200 parts", method: "POST", path: "/api/upload", body: fst(multipart(manyParts...)), contentType: snd(multipart()), want: 400, json: true, say: "parts"},
		{name: "key in the query", method: "POST", path: "/api/upload?key=victim", body: fst(multipart(file(png))), contentType: snd(multipart()), want: 400, json: true},
		{name: "not multipart", method: "POST", path: "/api/upload", body: "key=victim", contentType: "application/x-www-form-urlencoded", want: 400, json: true},
		{name: "truncated multipart", method: "POST", path: "/api/upload", body: "--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nvic", contentType: "multipart/form-data; boundary=B", want: 400, json: true},
		{name: "NUL in the key path", method: "POST", path: "/api/key/a%00b", want: 400, json: true},
		{name: "bad escape in the key path", raw: "POST /api/key/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", want: 400, json: true},
		{name: "bad escape in the delete path", raw: "POST /api/delete/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", want: 400, json: true},
		{name: "delete path climbing out", method: "POST", path: "/api/delete/..%2F..%2Fetc%2Fpasswd", want: 404, json: true},
		{name: "key path climbing out", method: "POST", path: "/api/key/..%2F..%2Fetc%2Fpasswd", want: 404, json: true},
		{name: "unknown endpoint", method: "POST", path: "/api/nope", want: 404, json: true},
		{name: "wrong method", method: "DELETE", path: "/api/delete_all", want: 405, json: true},
		// Late or HTML answers.
		{name: "declared 1 TiB, sent 6 bytes", raw: "POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 1099511627776\r\n\r\nabcdef", want: 413, json: true},
		{name: "long URL", raw: "GET /api/key/" + strings.Repeat("a", 20000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", want: 414, json: true},
		{name: "large headers", raw: "GET /api/list_keys HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + strings.Repeat("b", 20000) + "\r\n\r\n", want: 431, json: true},
		{name: "header without a colon", raw: "GET /api/list_keys HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n", want: 400, json: true},
		{name: "not HTTP", raw: "HELLO THERE\r\n\r\n", want: 400, json: true},
	}
	before := takeSnapshot(t, st, db)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var status int
			var body []byte
			if tt.raw != "" {
				a := raw(t, addr, tt.raw)
				status, body = a.status, a.body
			} else {
				req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				if tt.contentType != "" {
					req.Header.Set("Content-Type", tt.contentType)
				}
				for k, v := range tt.header {
					req.Header.Set(k, v)
				}
				req.AddCookie(&http.Cookie{Name: "imgcache_csrf", Value: apptest.Token})
				resp, err := apptest.NoRedirect.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
			}
			if status != tt.want {
				t.Errorf("status = %d, want %d: %.300s", status, tt.want, body)
			}
			if tt.json {
				var f struct {
					Success string
					Error   struct {
						Code    int
						Message string
					}
				}
				if err := json.Unmarshal(body, &f); err != nil || f.Success != "false" || f.Error.Code != status || f.Error.Message == "" {
					t.Errorf("answer %.300q is not the failure shape with code %d", body, status)
				}
			}
			if tt.say != "" && !strings.Contains(string(body), tt.say) {
				t.Errorf("answer %.300q does not say %q", body, tt.say)
			}
			if after := takeSnapshot(t, st, db); !after.equal(before) {
				t.Errorf("stored state changed:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
	t.Logf("%d hostile cases", len(tests))
}

func fst(a, _ string) string { return a }
func snd(_, b string) string { return b }
