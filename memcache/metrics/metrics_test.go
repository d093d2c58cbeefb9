package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fasthttp"
)

func TestWrapCountsByRouteAndStatus(t *testing.T) {
	reg := NewRegistry()
	m := NewHTTP(reg, "test")
	h := m.Wrap(func(ctx *fasthttp.RequestCtx) string { return "/x" }, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/missing" {
			ctx.SetStatusCode(404)
		}
	})
	for _, p := range []string{"/a", "/b", "/missing"} {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI(p)
		h(&ctx)
	}
	want := `
# HELP imgcache_http_requests_total HTTP requests answered, by route and status.
# TYPE imgcache_http_requests_total counter
imgcache_http_requests_total{route="/x",service="test",status="200"} 2
imgcache_http_requests_total{route="/x",service="test",status="404"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "imgcache_http_requests_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.duration); n != 2 {
		t.Errorf("duration series = %d, want 2", n)
	}
}

func TestHandlerServesTextFormat(t *testing.T) {
	reg := NewRegistry()
	NewHTTP(reg, "test")
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI(Path)
	Handler(reg)(&ctx)
	if ctx.Response.StatusCode() != 200 || !strings.Contains(string(ctx.Response.Body()), "go_goroutines") {
		t.Errorf("GET /metrics = %d %.200q, want 200 with the Go collector's metrics", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}
