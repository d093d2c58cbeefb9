package s3store_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"imgcache/app/imagestore"
	"imgcache/app/s3store"
)

// hungStore is an in-process stand-in for a store that accepts requests and never answers them.
// With answerBucket it answers the bucket check at Open, so that the calls after it can hang.
func hungStore(t *testing.T, answerBucket bool) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if answerBucket && r.Method == http.MethodHead && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0 {
			return // 200: the bucket exists
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return strings.TrimPrefix(srv.URL, "http://")
}

// timeout is the store's per-request timeout in these tests; bound is how long a call may take
// before the test calls it hung (retries of a timed-out request are not made, so one timeout and
// some scheduling on a busy machine).
const (
	timeout = 300 * time.Millisecond
	bound   = 5 * time.Second
)

// within runs call and returns its error, or fails the test when it takes longer than bound.
func within(t *testing.T, what string, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- call() }() // ends at the latest when hungStore releases its requests
	select {
	case err := <-done:
		t.Logf("%s failed after %v: %v", what, time.Since(start).Round(time.Millisecond), err)
		return err
	case <-time.After(bound):
		t.Fatalf("%s is still waiting after %v on a store that does not answer; want it to give up after %v", what, bound, timeout)
		return nil
	}
}

func TestHungStore(t *testing.T) {
	cfg := s3store.Config{Bucket: "hung", Endpoint: hungStore(t, true), Region: "us-east-1",
		AccessKey: "a", SecretKey: "s", Timeout: timeout}
	st, err := s3store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer st.Close()
	name, _ := imagestore.NewName(imagestore.TypePNG)
	calls := []struct {
		name string
		call func() error
	}{
		{"Put", func() error { _, err := st.Put(context.Background(), png, imagestore.TypePNG); return err }},
		{"Get", func() error { _, err := st.Get(context.Background(), name); return err }},
		{"Delete", func() error { return st.Delete(context.Background(), name) }},
		{"List", func() error { return st.List(context.Background(), func(string, time.Time) error { return nil }) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := within(t, c.name, c.call); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s on a hung store = %v, want an error wrapping context.DeadlineExceeded", c.name, err)
			}
		})
	}
	t.Run("a caller's shorter deadline wins", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := st.Get(ctx, name)
		if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took >= timeout {
			t.Errorf("Get with a 50ms deadline = %v after %v; want DeadlineExceeded before the store's %v", err, took, timeout)
		}
	})
}

func TestOpenHungStore(t *testing.T) {
	cfg := s3store.Config{Bucket: "hung", Endpoint: hungStore(t, false), Region: "us-east-1",
		AccessKey: "a", SecretKey: "s", Timeout: timeout}
	err := within(t, "Open", func() error {
		st, err := s3store.Open(context.Background(), cfg)
		if err == nil {
			st.Close()
		}
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open on a hung store = %v, want an error wrapping context.DeadlineExceeded", err)
	}
}

// TestDeleteOfAMissingKeyAnswered covers stores that answer a DELETE of a missing key with NoSuchKey
// instead of S3's 204 (versitygw answers 204, so only a stand-in can say it).
func TestDeleteOfAMissingKeyAnswered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
		}
	}))
	defer srv.Close()
	st, err := s3store.Open(context.Background(), s3store.Config{Bucket: "fake", Endpoint: strings.TrimPrefix(srv.URL, "http://"),
		Region: "us-east-1", AccessKey: "a", SecretKey: "s", Timeout: bound})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer st.Close()
	name, _ := imagestore.NewName(imagestore.TypePNG)
	if err := st.Delete(context.Background(), name); err != nil {
		t.Errorf("Delete(%q) answered NoSuchKey = %v, want nil", name, err)
	}
}
