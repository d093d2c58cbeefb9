package proxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// get fetches url twice on one kept-open connection and returns the body and each response's
// time to its whole body.
func get(t *testing.T, url string) (string, []time.Duration) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	var body string
	var took []time.Duration
	for range 2 {
		t0 := time.Now()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(t0))
		body = string(b)
	}
	return body, took
}

func upstream(t *testing.T, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Every response, not only a connection's first, arrives at least the latency late, intact.
// (A lower bound only: a loaded machine makes it later, never sooner.)
func TestLatency(t *testing.T) {
	up := upstream(t, "hello")
	const lat = 60 * time.Millisecond
	px, err := Start("s3", up, Model{Latency: lat})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	body, took := get(t, "http://"+px.Addr()+"/")
	if body != "hello" {
		t.Errorf("body %q through the proxy", body)
	}
	for i, d := range took {
		if d < lat {
			t.Errorf("response %d took %v, under the model's %v", i, d, lat)
		}
	}
	if err := px.Close(); err != nil {
		t.Fatal(err)
	}
	if err := px.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestBandwidth(t *testing.T) {
	const size = 300_000
	up := upstream(t, strings.Repeat("x", size))
	px, err := Start("s3", up, Model{Bandwidth: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	body, took := get(t, "http://"+px.Addr()+"/")
	if len(body) != size {
		t.Errorf("%d bytes through the proxy, want %d", len(body), size)
	}
	if min := 250 * time.Millisecond; took[1] < min {
		t.Errorf("%d bytes at 1 MB/s took %v, want at least %v", size, took[1], min)
	}
}

func TestModel(t *testing.T) {
	for _, tc := range []struct {
		m    Model
		ok   bool
		text string
	}{
		{Model{}, true, "none"},
		{Model{Latency: 20 * time.Millisecond}, true, "20ms before each response's first byte"},
		{Model{Latency: 20 * time.Millisecond, Bandwidth: 100e6}, true, "20ms before each response's first byte, 100.0 MB/s per connection"},
		{Model{Latency: 1500 * time.Microsecond}, false, ""},
		{Model{Latency: -time.Millisecond}, false, ""},
		{Model{Bandwidth: 10}, false, ""},
	} {
		err := tc.m.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadConfig)) {
			t.Errorf("%+v: Validate = %v, want ok %v", tc.m, err, tc.ok)
		}
		if tc.ok && tc.m.String() != tc.text {
			t.Errorf("%+v: %q, want %q", tc.m, tc.m.String(), tc.text)
		}
	}
	if _, err := Start("x", "127.0.0.1:1", Model{Latency: time.Nanosecond}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("Start with a bad model: %v", err)
	}
}
