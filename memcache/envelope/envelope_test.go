package envelope

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode int
		wantMsg  string
	}{
		{"client error", Errorf(404, "no key %q", "a"), 404, `no key "a"`},
		{"wrapped client error", fmt.Errorf("ctx: %w", Errorf(409, "busy")), 409, "busy"},
		{"internal error hides details", errors.New("disk on fire at /var/x"), 500, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := Status(tt.err)
			if code != tt.wantCode || msg != tt.wantMsg {
				t.Errorf("Status(%v) = %d, %q; want %d, %q", tt.err, code, msg, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	var ctx fasthttp.RequestCtx
	WriteError(&ctx, nil, Errorf(http.StatusNotFound, "no image is stored under key %q", "cat"))
	if got := ctx.Response.StatusCode(); got != 404 {
		t.Errorf("status = %d, want 404", got)
	}
	var f Failure
	if err := json.Unmarshal(ctx.Response.Body(), &f); err != nil {
		t.Fatalf("body %q: %v", ctx.Response.Body(), err)
	}
	want := Failure{Success: "false", Error: FailureBody{Code: 404, Message: `no image is stored under key "cat"`}}
	if f != want {
		t.Errorf("body = %+v, want %+v", f, want)
	}
}

func TestBodyTooLarge(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"too large", fasthttp.ErrBodyTooLarge, 413},
		{"other read error", errors.New("cannot parse"), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ctx fasthttp.RequestCtx
			BodyTooLarge(10)(&ctx, tt.err)
			if got := ctx.Response.StatusCode(); got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
}
