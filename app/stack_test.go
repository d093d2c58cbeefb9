package app_test

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
	"testing"
	"time"

	"imgcache/app"
	"imgcache/memcache"
)

// stack is a real memcache service and a real backend on free loopback ports, sharing one database.
type stack struct {
	Memcache *memcache.Server
	Backend  *app.Server
	DataDir  string
	DSN      string
}

// startStack starts both services on dsn. mutate may adjust the backend's config.
func startStack(t *testing.T, dsn string, mutate func(*app.Config)) *stack {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mc, err := memcache.Start(context.Background(), memcache.Config{Addr: "127.0.0.1:0", DB: dsn, StatsInterval: time.Hour, Logger: quiet, Seed: 1, Secret: stackSecret})
	if err != nil {
		t.Fatalf("start memcache: %v", err)
	}
	t.Cleanup(func() { mc.Close() })
	st := &stack{Memcache: mc, DataDir: t.TempDir(), DSN: dsn}
	cfg := app.Config{Addr: "127.0.0.1:0", MemcacheURL: mc.URL(), MemcacheSecret: stackSecret, DB: dsn, DataDir: st.DataDir, Logger: quiet,
		MemcacheTimeout: testMemcacheTimeout}
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

// stackSecret is the memcache's shared secret in a test stack.
const stackSecret = "stack-secret"

// testToken is the form token the tests' requests carry, in the cookie and in every form they post,
// as a browser does after loading a page.
const testToken = "7e57707e7e57707e7e57707e7e57707e7e57707e7e57707e7e57707e7e57707e"

// multipartBody builds an upload form, with the form token. A nil file leaves the file field out.
func multipartBody(t *testing.T, fields map[string]string, fileName string, file []byte) (body *bytes.Buffer, contentType string) {
	t.Helper()
	body = &bytes.Buffer{}
	w := multipart.NewWriter(body)
	if _, ok := fields["csrf"]; !ok {
		if err := w.WriteField("csrf", testToken); err != nil {
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

// do sends a request with net/http and returns the status and body.
func do(t *testing.T, method, url, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	r := request(t, method, url, contentType, body)
	return r.Status, []byte(r.Body)
}

// noRedirect lets tests see the 303 of a form post.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// pngImage returns a small real PNG whose pixel (1,0) carries version, so a reader can tell versions apart.
func pngImage(t testing.TB, version int) []byte {
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

// pngVersion reads back the version of a pngImage.
func pngVersion(t testing.TB, data []byte) int {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	c := color.NRGBAModel.Convert(img.At(1, 0)).(color.NRGBA)
	return int(c.R) | int(c.G)<<8 | int(c.B)<<16
}
