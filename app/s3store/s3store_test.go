package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"imgcache/app/imagestore"
	"imgcache/app/imagestore/storetest"
	"imgcache/app/s3store"
	"imgcache/app/s3store/s3test"
)

var ctx = context.Background()

var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR body")

// TestConformance runs the suite every store passes against a real S3 server, a bucket per subtest.
func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	client := srv.Client(t)
	storetest.Run(t, func(t *testing.T) storetest.Subject {
		bucket := s3test.NewBucket()
		st := srv.Open(t, bucket)
		return storetest.Subject{Store: st, Plant: func(t *testing.T, name string, data []byte) {
			t.Helper()
			if _, err := client.PutObject(ctx, bucket, name, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
				t.Fatalf("plant %q: %v", name, err)
			}
		}}
	})
}

func TestOpenCreatesTheBucket(t *testing.T) {
	srv := s3test.Start(t)
	bucket := s3test.NewBucket()
	if ok, err := srv.Client(t).BucketExists(ctx, bucket); ok || err != nil {
		t.Fatalf("BucketExists(%q) before Open = %v, %v; want false", bucket, ok, err)
	}
	first := srv.Open(t, bucket)
	if ok, err := srv.Client(t).BucketExists(ctx, bucket); !ok || err != nil {
		t.Fatalf("BucketExists(%q) after Open = %v, %v; want true", bucket, ok, err)
	}
	if fi, err := os.Stat(filepath.Join(srv.Dir, bucket)); err != nil || !fi.IsDir() {
		t.Errorf("the bucket's folder in the server's root: %v", err)
	}
	name, err := first.Put(ctx, png, imagestore.TypePNG)
	if err != nil {
		t.Fatal(err)
	}
	// A second store on the same bucket, as a second backend would open it: the bucket is there
	// already, and the objects are shared.
	second := srv.Open(t, bucket)
	if got, err := second.Get(ctx, name); err != nil || !bytes.Equal(got, png) {
		t.Errorf("second store: Get(%q) = %q, %v; want the first store's object", name, got, err)
	}
}

func TestOpenConcurrently(t *testing.T) {
	// Backends starting together race to create the bucket; every one of them must open it.
	srv := s3test.Start(t)
	bucket := s3test.NewBucket()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			st, err := s3store.Open(ctx, srv.Config(bucket))
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				return
			}
			st.Close()
		})
	}
	wg.Wait()
}

func TestOpenErrors(t *testing.T) {
	srv := s3test.Start(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedAddr := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()
	tests := []struct {
		name    string
		mutate  func(*s3store.Config)
		wantErr string
	}{
		{"wrong secret", func(c *s3store.Config) { c.SecretKey = "wrong" }, "Access Denied"},
		{"unknown access key", func(c *s3store.Config) { c.AccessKey = "nobody" }, "access key"},
		{"no credentials", func(c *s3store.Config) { c.AccessKey, c.SecretKey = "", "" }, "no credentials"},
		{"invalid bucket name", func(c *s3store.Config) { c.Bucket = "No_Such" }, "No_Such"},
		{"nothing listening", func(c *s3store.Config) { c.Endpoint = closedAddr }, "connection refused"},
		{"https to an http server", func(c *s3store.Config) { c.Secure = true }, "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := srv.Config(s3test.NewBucket())
			cfg.Timeout = 5 * time.Second
			tt.mutate(&cfg)
			st, err := s3store.Open(ctx, cfg)
			if err == nil {
				st.Close()
				t.Fatalf("Open(%+v) succeeded, want an error", cfg)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), cfg.Bucket) {
				t.Errorf("Open = %v; want an error naming the bucket and mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestPutStoresTheContentType(t *testing.T) {
	srv := s3test.Start(t)
	bucket := s3test.NewBucket()
	st := srv.Open(t, bucket)
	tests := []struct {
		name, contentType string
		data              []byte
	}{
		{"png", imagestore.TypePNG, png},
		{"gif", imagestore.TypeGIF, []byte("GIF89a body")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, err := st.Put(ctx, tt.data, tt.contentType)
			if err != nil {
				t.Fatal(err)
			}
			info, err := srv.Client(t).StatObject(ctx, bucket, name, minio.StatObjectOptions{})
			if err != nil {
				t.Fatalf("StatObject(%q): %v", name, err)
			}
			if info.ContentType != tt.contentType || info.Size != int64(len(tt.data)) {
				t.Errorf("object %q: content type %q, %d bytes; want %q, %d", name, info.ContentType, info.Size, tt.contentType, len(tt.data))
			}
		})
	}
}

func TestListCrossesPages(t *testing.T) {
	srv := s3test.Start(t)
	bucket := s3test.NewBucket()
	st := srv.Open(t, bucket)
	s3store.SetPageSize(st, 2)
	var want []string
	for range 7 {
		name, err := st.Put(ctx, png, imagestore.TypePNG)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	slices.Sort(want)
	var got []string
	if err := st.List(ctx, func(name string, _ time.Time) error { got = append(got, name); return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("List over pages of 2 = %q\nwant %q", got, want)
	}
}

// TestCancelledContext is stricter than the conformance suite: every call to a remote store must fail.
func TestCancelledContext(t *testing.T) {
	srv := s3test.Start(t)
	st := srv.Open(t, s3test.NewBucket())
	name, err := st.Put(ctx, png, imagestore.TypePNG)
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"Put", func() error { _, err := st.Put(done, png, imagestore.TypePNG); return err }},
		{"Get", func() error { _, err := st.Get(done, name); return err }},
		{"Delete", func() error { return st.Delete(done, name) }},
		{"List", func() error { return st.List(done, func(string, time.Time) error { return nil }) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context = %v, want an error wrapping context.Canceled", c.name, err)
			}
		})
	}
	if got, err := st.Get(ctx, name); err != nil || !bytes.Equal(got, png) {
		t.Errorf("Get(%q) after the cancelled Delete = %q, %v; want the object still there", name, got, err)
	}
}
