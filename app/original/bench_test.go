package original_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"imgcache/app"
	"imgcache/app/original"
)

// BenchmarkImport1000: an in-place import of 1,000 original rows (each a small PNG in the image
// folder) on MariaDB, then a second run, which finds nothing to do. Reported: the seconds of each.
// Run: go test -run x -bench Import1000 -benchtime 3x ./app/original/
func BenchmarkImport1000(b *testing.B) {
	const rows = 1000
	var first, second time.Duration
	for range b.N {
		b.StopTimer()
		dsn, raw := originalDBFor(b)
		images := b.TempDir()
		img := pngBytesFor(b, 7)
		tx, err := raw.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for i := range rows {
			name := fmt.Sprintf("img%04d.png", i)
			if err := os.WriteFile(filepath.Join(images, name), img, 0o644); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO images (`key`, location) VALUES (?, ?)", fmt.Sprintf("key %d", i), name); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		cfg := original.Config{App: app.Config{DB: dsn, DataDir: b.TempDir()}, Images: images}
		b.StartTimer()
		sum, err := original.Run(context.Background(), cfg)
		if err != nil || sum.Imported != rows {
			b.Fatalf("import: %+v, %v", sum, err)
		}
		first += sum.Elapsed
		again, err := original.Run(context.Background(), cfg)
		if err != nil || again.Imported != 0 || len(again.Skipped) != 0 || again.Earlier != rows {
			b.Fatalf("second run: %+v, %v", again, err)
		}
		second += again.Elapsed
	}
	b.ReportMetric(first.Seconds()/float64(b.N), "first-s")
	b.ReportMetric(second.Seconds()/float64(b.N), "second-s")
}
