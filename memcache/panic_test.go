package memcache

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"imgcache/memcache/route"
)

// TestPanicIsA500: a handler of the service that panics answers 500 in the failure shape, the stack
// goes to the log and the service keeps serving. The panicking route is added to the service's own
// table and error answer.
func TestPanicIsA500(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	routes := append(s.routeTable(nil), route.Route{Path: "/panic", Methods: []string{"POST"},
		Handle: func(context.Context, *fasthttp.RequestCtx) error { panic("boom in a handler") }},
		route.Route{Path: "/fine", Methods: []string{"GET"},
			Handle: func(_ context.Context, rc *fasthttp.RequestCtx) error { writeOK(rc); return nil }})
	tab := route.New(route.Config{OnError: s.answerError, Log: s.log}, routes)

	var rc fasthttp.RequestCtx
	rc.Request.Header.SetMethod("POST")
	rc.Request.SetRequestURI("/panic")
	tab.Serve(&rc)
	var f struct {
		Success string
		Error   struct{ Code int }
	}
	if err := json.Unmarshal(rc.Response.Body(), &f); err != nil || rc.Response.StatusCode() != 500 || f.Success != "false" || f.Error.Code != 500 {
		t.Errorf("answer = %d %q, want 500 in the failure shape", rc.Response.StatusCode(), rc.Response.Body())
	}
	if strings.Contains(string(rc.Response.Body()), "boom") {
		t.Errorf("the answer leaks the panic: %q", rc.Response.Body())
	}
	if !strings.Contains(logs.String(), "boom in a handler") || !strings.Contains(logs.String(), "panic_test.go") {
		t.Errorf("log = %.400q, want the panic and its stack", logs.String())
	}
	var next fasthttp.RequestCtx
	next.Request.Header.SetMethod("GET")
	next.Request.SetRequestURI("/fine")
	tab.Serve(&next)
	if next.Response.StatusCode() != 200 {
		t.Errorf("after the panic: /fine = %d, want 200", next.Response.StatusCode())
	}
}
