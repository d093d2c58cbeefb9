// Package apptest starts the backend and the memcache for tests, and builds the requests and images
// they send. Only tests import it.
package apptest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"sync"
	"testing"
	"time"

	"imgcache/app"
	"imgcache/database"
	"imgcache/memcache"
	"imgcache/memcache/client"
	"imgcache/memcache/wire"
)

// Stack is a real memcache service and a real backend on free loopback ports, sharing one database.
type Stack struct {
	Memcache *memcache.Server
	Backend  *app.Server
	DataDir  string
	DSN      string
}

// StartStack starts both services on dsn. mutate may adjust the backend's config.
func StartStack(t *testing.T, dsn string, mutate func(*app.Config)) *Stack {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mc, err := memcache.Start(context.Background(), memcache.Config{Addr: "127.0.0.1:0", DB: dsn, StatsInterval: time.Hour, Logger: quiet, Seed: 1, Secret: StackSecret})
	if err != nil {
		t.Fatalf("start memcache: %v", err)
	}
	t.Cleanup(func() { mc.Close() })
	st := &Stack{Memcache: mc, DataDir: t.TempDir(), DSN: dsn}
	cfg := app.Config{Addr: "127.0.0.1:0", MemcacheURL: mc.URL(), MemcacheSecret: StackSecret, DB: dsn, DataDir: st.DataDir, Logger: quiet,
		MemcacheTimeout: MemcacheTimeout}
	if mutate != nil {
		mutate(&cfg)
	}
	be, err := app.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start backend: %v", err)
	}
	t.Cleanup(func() { be.Close() })
	st.Backend = be
	return st
}

// MemcacheTimeout is the cache calls' deadline of the tests' backends, unless a test is about it:
// the default's 100 ms is a wall-clock window a busy machine under the race detector misses, and a
// missed one only sends a read to the store, which the tests that count cache hits notice.
const MemcacheTimeout = 2 * time.Second

// StackSecret is the memcache's shared secret in a test stack.
const StackSecret = "stack-secret"

// Token is the form token the tests' requests carry, in the cookie and in every form they post,
// as a browser does after loading a page.
const Token = "7e57707e7e57707e7e57707e7e57707e7e57707e7e57707e7e57707e7e57707e"

// MultipartBody builds an upload form, with the form token. A nil file leaves the file field out.
func MultipartBody(t *testing.T, fields map[string]string, fileName string, file []byte) (body *bytes.Buffer, contentType string) {
	t.Helper()
	body = &bytes.Buffer{}
	w := multipart.NewWriter(body)
	if _, ok := fields["csrf"]; !ok {
		if err := w.WriteField("csrf", Token); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := w.CreateFormFile("file", fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return body, w.FormDataContentType()
}

// Do sends a request with net/http and returns the status and body.
func Do(t *testing.T, method, url, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	r := Request(t, method, url, contentType, body)
	return r.Status, []byte(r.Body)
}

// NoRedirect lets tests see the 303 of a form post.
var NoRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// PNGImage returns a small real PNG whose pixel (1,0) carries version, so a reader can tell versions apart.
func PNGImage(t testing.TB, version int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.SetNRGBA(1, 0, color.NRGBA{R: uint8(version), G: uint8(version >> 8), B: uint8(version >> 16), A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// PNGVersion reads back the version of a pngImage.
func PNGVersion(t testing.TB, data []byte) int {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	c := color.NRGBAModel.Convert(img.At(1, 0)).(color.NRGBA)
	return int(c.R) | int(c.G)<<8 | int(c.B)<<16
}

// Response is what a page test looks at.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Request sends a request without following redirects.
func Request(t *testing.T, method, url, contentType string, body io.Reader) Response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.AddCookie(&http.Cookie{Name: "imgcache_csrf", Value: Token})
	resp, err := NoRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{resp.StatusCode, resp.Header, string(b)}
}

// OpenDB opens dsn for the test's duration.
func OpenDB(t *testing.T, dsn string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// CacheStats asks the stack's memcache for its figures.
func CacheStats(t *testing.T, st *Stack) wire.Stats {
	t.Helper()
	c, err := client.New(st.Memcache.URL(), client.Options{Secret: StackSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.Stats(ctx)
	if err != nil {
		t.Fatalf("memcache stats: %v", err)
	}
	return s
}

// SyncBuffer is a log sink that a server's goroutines and the test may use at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
