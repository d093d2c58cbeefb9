package database_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"imgcache/database"
	"imgcache/database/dbtest"
)

const benchRows = 10_000

// fill inserts n images with keys "key-00000"... in batches, using the
// columns' defaults for the time.
func fill(b *testing.B, db *database.DB, n int) []string {
	b.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%05d", i)
	}
	const batch = 500
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		var args []any
		for _, k := range keys[start:end] {
			args = append(args, k, "ab/"+k+".png", 100_000, "image/png")
		}
		q := "INSERT INTO images (`key`, location, size, content_type) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", end-start), ", ")
		if _, err := db.SQL().Exec(q, args...); err != nil {
			b.Fatal(err)
		}
	}
	return keys
}

// BenchmarkGetImage looks up random keys among benchRows rows.
func BenchmarkGetImage(b *testing.B) {
	for _, d := range []database.Dialect{database.SQLite, database.MySQL} {
		b.Run(string(d), func(b *testing.B) {
			db := open(b, dbtest.DSNFor(b, d))
			keys := fill(b, db, benchRows)
			ctx := context.Background()
			b.Run("serial", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, err := db.GetImage(ctx, keys[(i*7919)%len(keys)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if _, err := db.GetImage(ctx, keys[(i*7919)%len(keys)]); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
			})
		})
	}
}

// BenchmarkPutImage replaces images on benchRows keys, serially and from
// many goroutines (where SQLite writers queue in Go, not in busy_timeout).
func BenchmarkPutImage(b *testing.B) {
	for _, d := range []database.Dialect{database.SQLite, database.MySQL} {
		b.Run(string(d), func(b *testing.B) {
			db := open(b, dbtest.DSNFor(b, d))
			keys := fill(b, db, benchRows)
			ctx := context.Background()
			b.Run("serial", func(b *testing.B) {
				i := 0
				for b.Loop() {
					k := keys[(i*7919)%len(keys)]
					if _, err := db.PutImage(ctx, database.Image{Key: k, Location: fmt.Sprintf("s-%d", i)}); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						k := keys[(i*7919)%len(keys)]
						if _, err := db.PutImage(ctx, database.Image{Key: k, Location: fmt.Sprintf("p-%p-%d", pb, i)}); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
			})
		})
	}
}

// BenchmarkGetImages looks up batches of random keys among benchRows rows in one query each; ns/op is
// per batch, and the key/s metric says what a batch size buys.
func BenchmarkGetImages(b *testing.B) {
	for _, d := range []database.Dialect{database.SQLite, database.MySQL} {
		b.Run(string(d), func(b *testing.B) {
			db := open(b, dbtest.DSNFor(b, d))
			keys := fill(b, db, benchRows)
			ctx := context.Background()
			for _, n := range []int{1, 4, 5, 8, 16, 64} {
				b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
					batch := make([]string, n)
					i := 0
					for b.Loop() {
						for j := range batch {
							batch[j] = keys[(i*7919)%len(keys)]
							i++
						}
						rows, err := db.GetImages(ctx, batch)
						if err != nil || len(rows) == 0 {
							b.Fatal(rows, err)
						}
					}
					b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "keys/s")
				})
			}
		})
	}
}
