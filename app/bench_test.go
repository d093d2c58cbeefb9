package app_test

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkUpload measures durable 50 KB uploads through Server.Upload (file, fsync, row, invalidate)
// with the real database and files and a fake cache, 16 at a time.
func BenchmarkUpload(b *testing.B) {
	s, _ := newFakeServer(b, &bytes.Buffer{})
	img := pngImage(b, 1)
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
