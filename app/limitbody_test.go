package app

import (
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestLimitBodyAllocatesWhatArrives: a body that declares 16 MB and sends a few bytes costs the server
// about what arrived, not what was declared: 400 such connections once took 3 GB.
func TestLimitBodyAllocatesWhatArrives(t *testing.T) {
	s := New(Config{Logger: slog.New(slog.DiscardHandler)}, nil, nil, nil)
	declared := s.cfg.MaxUpload // within the limit, so it is read, not refused
	var rc fasthttp.RequestCtx
	rc.Request.Header.SetMethod("POST")
	rc.Request.SetBodyStream(io.NopCloser(strings.NewReader("only a few bytes")), declared)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := s.limitBody(&rc)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("limitBody of a short body = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("reading a %d-byte declared body that sent 16 bytes allocated %d bytes", declared, got)
	}
}
