package route

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fasthttp"
)

// recorded is what a test table's ErrorFunc saw.
type recorded struct{ errs []error }

func (r *recorded) onError(rc *fasthttp.RequestCtx, err error) {
	r.errs = append(r.errs, err)
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNoRoute):
		code = http.StatusNotFound
	case errors.Is(err, ErrMethod):
		code = http.StatusMethodNotAllowed
	}
	rc.SetStatusCode(code)
	rc.SetBodyString("error: " + err.Error())
}

func ok(body string) Handler {
	return func(_ context.Context, rc *fasthttp.RequestCtx) error {
		rc.SetBodyString(body)
		return nil
	}
}

func testTable(t *testing.T, log io.Writer) (*Table, *recorded, *Metrics) {
	t.Helper()
	rec := &recorded{}
	reg := NewRegistry()
	m := NewMetrics(reg, "test")
	tab := New(Config{OnError: rec.onError, Log: slog.New(slog.NewTextHandler(log, nil)), Metrics: m}, []Route{
		{Path: "/", Methods: []string{http.MethodGet}, Nav: "Home", Handle: ok("home")},
		{Path: "/form", Methods: []string{http.MethodGet, http.MethodPost}, Handle: ok("form")},
		{Path: "/api/key/", Prefix: true, Original: true, Methods: []string{http.MethodPost}, Handle: ok("key")},
		{Path: "/static/", Prefix: true, Methods: []string{http.MethodGet}, Handle: ok("static")},
		{Path: "/boom", Methods: []string{http.MethodPost}, Handle: func(context.Context, *fasthttp.RequestCtx) error {
			var m map[string]int
			m["x"] = 1 // a nil-map write: a real runtime panic
			return nil
		}},
		{Path: "/fail", Methods: []string{http.MethodGet}, Handle: func(context.Context, *fasthttp.RequestCtx) error {
			return errors.New("handler failed")
		}},
	})
	return tab, rec, m
}

func serve(tab *Table, method, uri string) *fasthttp.RequestCtx {
	var rc fasthttp.RequestCtx
	rc.Request.Header.SetMethod(method)
	rc.Request.SetRequestURI(uri)
	tab.Serve(&rc)
	return &rc
}

func TestServe(t *testing.T) {
	tests := []struct {
		name, method, uri string
		status            int
		body, allow       string
	}{
		{"exact", "GET", "/", 200, "home", ""},
		{"HEAD with GET", "HEAD", "/", 200, "home", ""},
		{"second method", "POST", "/form", 200, "form", ""},
		{"wrong method", "DELETE", "/form", 405, "error: DELETE is not allowed on /form; use GET or HEAD or POST", "GET, HEAD, POST"},
		{"prefix on the original path", "POST", "/api/key/a%2F..%2Fb", 200, "key", ""},
		{"original path keeps dot segments", "POST", "/api/key/../form", 200, "key", ""},
		{"prefix on the cleaned path", "GET", "/static/x.css", 200, "static", ""},
		{"unknown", "GET", "/nope", 404, "error: no such route: \"/nope\"", ""},
		{"handler error", "GET", "/fail", 500, "error: handler failed", ""},
	}
	tab, _, _ := testTable(t, io.Discard)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := serve(tab, tt.method, tt.uri)
			if got := rc.Response.StatusCode(); got != tt.status {
				t.Errorf("status = %d, want %d", got, tt.status)
			}
			if got := string(rc.Response.Body()); got != tt.body {
				t.Errorf("body = %q, want %q", got, tt.body)
			}
			if got := string(rc.Response.Header.Peek("Allow")); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}

// A panicking handler answers 500 through the server's ErrorFunc, logs its stack, and the table
// keeps serving.
func TestServeRecoversFromPanic(t *testing.T) {
	var log bytes.Buffer
	tab, rec, _ := testTable(t, &log)
	rc := serve(tab, "POST", "/boom")
	if got := rc.Response.StatusCode(); got != 500 {
		t.Errorf("status = %d, want 500", got)
	}
	if len(rec.errs) != 1 || !errors.Is(rec.errs[0], ErrPanic) {
		t.Errorf("ErrorFunc got %v, want one ErrPanic", rec.errs)
	}
	if !strings.Contains(log.String(), "handler panicked") || !strings.Contains(log.String(), "route_test.go") {
		t.Errorf("log = %q, want the panic and its stack", log.String())
	}
	if rc := serve(tab, "GET", "/"); rc.Response.StatusCode() != 200 {
		t.Errorf("after the panic: status %d, want 200", rc.Response.StatusCode())
	}
}

func TestServeCountsByRouteLabel(t *testing.T) {
	tab, _, m := testTable(t, io.Discard)
	for _, uri := range []string{"/", "/", "/api/key/secret-key", "/nope/secret"} {
		serve(tab, "GET", uri)
	}
	serve(tab, "POST", "/api/key/another")
	want := `
# HELP imgcache_http_requests_total HTTP requests answered, by route and status.
# TYPE imgcache_http_requests_total counter
imgcache_http_requests_total{route="/",service="test",status="200"} 2
imgcache_http_requests_total{route="/api/key/",service="test",status="200"} 1
imgcache_http_requests_total{route="/api/key/",service="test",status="405"} 1
imgcache_http_requests_total{route="other",service="test",status="404"} 1
`
	if err := testutil.CollectAndCompare(m.requests, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.duration); n != 4 {
		t.Errorf("duration series = %d, want 4", n)
	}
}

func TestRequestContextEndsWithHandler(t *testing.T) {
	var got context.Context
	tab := New(Config{OnError: (&recorded{}).onError}, []Route{{Path: "/", Methods: []string{"GET"},
		Handle: func(ctx context.Context, _ *fasthttp.RequestCtx) error { got = ctx; return ctx.Err() }}})
	serve(tab, "GET", "/")
	if got == nil || got.Err() == nil {
		t.Errorf("request context after the handler: err = %v, want cancelled", got.Err())
	}
}

func TestMetricsHandlerServesTextFormat(t *testing.T) {
	reg := NewRegistry()
	NewMetrics(reg, "test")
	var rc fasthttp.RequestCtx
	rc.Request.SetRequestURI(MetricsPath)
	if err := MetricsHandler(reg)(context.Background(), &rc); err != nil {
		t.Fatal(err)
	}
	if rc.Response.StatusCode() != 200 || !strings.Contains(string(rc.Response.Body()), "go_goroutines") {
		t.Errorf("GET /metrics = %d %.200q, want 200 with the Go collector's metrics", rc.Response.StatusCode(), rc.Response.Body())
	}
}

func TestNewRefusesDuplicatePaths(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New with a duplicate path did not panic")
		}
	}()
	New(Config{}, []Route{{Path: "/a"}, {Path: "/a"}})
}

// TestReadError sends what fasthttp cannot read to a real server and checks how ReadError names it.
func TestReadError(t *testing.T) {
	got := make(chan error, 1)
	srv := &fasthttp.Server{Handler: func(*fasthttp.RequestCtx) {}, ReadBufferSize: 4096,
		MaxRequestBodySize: 16, Logger: Logger(slog.New(slog.DiscardHandler)),
		ErrorHandler: func(rc *fasthttp.RequestCtx, err error) { got <- ReadError(err); rc.SetStatusCode(400) }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	tests := []struct {
		name, request string
		want          error
	}{
		{"long URI", "GET /api/" + strings.Repeat("a", 5000) + " HTTP/1.1\r\nHost: x\r\n\r\n", ErrURITooLong},
		{"large header", "GET /api/x HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 5000) + "\r\n\r\n", ErrHeaderTooLarge},
		{"header without colon", "GET /api/x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", ErrUnreadable},
		{"not HTTP", "GARBAGE\r\n\r\n", ErrUnreadable},
		{"declared body over the limit", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", fasthttp.ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write([]byte(tt.request)); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-got:
				if !errors.Is(err, tt.want) {
					t.Errorf("ReadError = %v, want %v", err, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the server never reported the error")
			}
		})
	}
}
