package app_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"imgcache/app/apptest"

	"imgcache/app"
	"imgcache/app/imagestore"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// sweepServer is a backend over a fake cache, the real database at dsn and a real folder, whose sweep
// takes every object old enough at once (a grace of a nanosecond) and runs only when called.
func sweepServer(t *testing.T, dsn string) (*app.Server, *database.DB, *imagestore.Store) {
	t.Helper()
	db, err := database.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	objects, err := imagestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{SweepGrace: time.Nanosecond, SweepInterval: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return app.New(cfg, newFakeCache(), db, objects), db, objects
}

// objectNames lists the objects of a store.
func objectNames(t *testing.T, o app.Objects) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	if err := o.List(context.Background(), func(n string, _ time.Time) error { names[n] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return names
}

// checkRowsHaveObjects fails for every row whose object is gone.
func checkRowsHaveObjects(t *testing.T, db *database.DB, o app.Objects) {
	t.Helper()
	rows, err := db.ListImages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	have := objectNames(t, o)
	for _, r := range rows {
		if !have[r.Location] {
			t.Errorf("row %q names %s, which the sweep removed", r.Key, r.Location)
		}
	}
}

func TestSweepRemovesOrphansOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, db, objects := sweepServer(t, dsn)
		for v := 1; v <= 3; v++ {
			if err := s.Upload(ctx, "k", apptest.PNGImage(t, v)); err != nil { // each replaces the last
				t.Fatal(err)
			}
		}
		if err := s.Upload(ctx, "other", apptest.PNGImage(t, 9)); err != nil {
			t.Fatal(err)
		}
		var orphans []string
		for i := range 3 { // objects whose upload died before its commit
			name, err := objects.Put(ctx, apptest.PNGImage(t, 100+i), imagestore.TypePNG)
			if err != nil {
				t.Fatal(err)
			}
			orphans = append(orphans, name)
		}
		removed, err := s.Sweep(ctx)
		if err != nil || removed != len(orphans) {
			t.Errorf("Sweep = %d, %v; want %d, nil", removed, err, len(orphans))
		}
		have := objectNames(t, objects)
		for _, o := range orphans {
			if have[o] {
				t.Errorf("orphan %s survived the sweep", o)
			}
		}
		if len(have) != 2 {
			t.Errorf("%d objects after the sweep, want the 2 that rows name", len(have))
		}
		checkRowsHaveObjects(t, db, objects)
		if removed, err := s.Sweep(ctx); err != nil || removed != 0 {
			t.Errorf("second Sweep = %d, %v; want 0, nil", removed, err)
		}
	})
}

// TestSweepSparesUploadsInFlight sweeps over and over while uploads run: an upload's object exists
// before its row, and no sweep may take it in between, even with no grace period at all.
func TestSweepSparesUploadsInFlight(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, db, objects := sweepServer(t, dsn)
		const uploaders, each = 4, 25
		var uploadsDone, sweeper sync.WaitGroup
		stop := make(chan struct{})
		sweeps := 0
		sweeper.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Sweep(ctx); err != nil {
					t.Errorf("Sweep: %v", err)
					return
				}
				sweeps++
			}
		})
		for u := range uploaders {
			uploadsDone.Go(func() {
				for i := range each {
					key := string(rune('a'+u)) + string(rune('a'+i%5))
					if err := s.Upload(ctx, key, apptest.PNGImage(t, u*100+i)); err != nil {
						t.Errorf("Upload %q: %v", key, err)
						return
					}
				}
			})
		}
		uploadsDone.Wait()
		close(stop)
		sweeper.Wait()
		t.Logf("%d uploads raced %d sweeps", uploaders*each, sweeps)
		checkRowsHaveObjects(t, db, objects)
		for k := range 20 {
			key := string(rune('a'+k/5)) + string(rune('a'+k%5))
			if _, err := s.Read(ctx, key, nil); err != nil {
				t.Errorf("Read(%q) after the race: %v", key, err)
			}
		}
		if sweeps < 5 {
			t.Errorf("only %d sweeps raced the uploads; the test proves little", sweeps)
		}
	})
}
