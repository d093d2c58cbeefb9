package s3store_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"imgcache/app/imagestore"
	"imgcache/app/imagestore/storetest"
	"imgcache/app/s3store/s3test"
)

// benchStores opens a folder store and an S3 store (versitygw on loopback) for a benchmark.
func benchStores(b *testing.B) []struct {
	name  string
	store storetest.Store
} {
	folder, err := imagestore.Open(filepath.Join(b.TempDir(), "images"))
	if err != nil {
		b.Fatal(err)
	}
	srv := s3test.Start(b)
	return []struct {
		name  string
		store storetest.Store
	}{{"folder", folder}, {"s3", srv.Open(b, s3test.NewBucket())}}
}

// pngOf returns a PNG signature followed by random bytes, n bytes in all.
func pngOf(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	copy(data, "\x89PNG\r\n\x1a\n")
	return data
}

// BenchmarkGet is what a cache miss costs the backend in the store: one read of a 100 KB object.
// Run it with -count to interleave the two stores.
func BenchmarkGet(b *testing.B) {
	data := pngOf(100 << 10)
	for _, s := range benchStores(b) {
		name, err := s.store.Put(ctx, data, imagestore.TypePNG)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.name+"/100KB", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.store.Get(ctx, name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPut is one writer storing 50 KB objects: fsynced in the folder, acknowledged by the
// store for S3 (versitygw's posix backend does not fsync).
func BenchmarkPut(b *testing.B) {
	data := pngOf(50 << 10)
	for _, s := range benchStores(b) {
		b.Run(s.name+"/50KB", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := s.store.Put(ctx, data, imagestore.TypePNG); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
