package app_test

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"imgcache/app/apptest"
)

// BenchmarkUpload measures durable 50 KB uploads through Server.Upload (file, fsync, row, invalidate)
// with the real database and files and a fake cache, 16 at a time.
func BenchmarkUpload(b *testing.B) {
	s, _ := newFakeServer(b, &bytes.Buffer{})
	img := apptest.PNGImage(b, 1)
	img = append(img, make([]byte, 50<<10-len(img))...) // trailing bytes after IEND: still a PNG by its magic
	var n atomic.Int64
	b.SetBytes(int64(len(img)))
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Upload(context.Background(), "k"+strconv.FormatInt(n.Add(1), 10), img); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkReadHit measures a cached read through Server.Read: the row from the real SQLite database,
// then the image from a fake cache that holds it. It is the cost the read path adds to a cache hit.
func BenchmarkReadHit(b *testing.B) {
	s, _ := newFakeServer(b, &bytes.Buffer{})
	ctx := context.Background()
	if err := s.Upload(ctx, "hit", apptest.PNGImage(b, 1)); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Read(ctx, "hit", nil); err != nil { // fills the cache
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, 64<<10)
		for pb.Next() {
			if _, err := s.Read(ctx, "hit", buf[:0]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
