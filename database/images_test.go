package database_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"imgcache/database"
	"imgcache/database/dbtest"
)

func TestPutGetImage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)

		at := time.Date(2031, 7, 8, 23, 59, 58, 123456789, time.FixedZone("UTC+2", 2*3600))
		first := database.Image{Key: "cat", Location: "ab/cdef.png", Size: 3 << 30, ContentType: "image/png", UpdatedAt: at}
		prev, err := db.PutImage(ctx, first)
		if err != nil {
			t.Fatalf("PutImage(new): %v", err)
		}
		if prev != "" {
			t.Errorf("PutImage(new) previous = %q, want \"\"", prev)
		}
		got, err := db.GetImage(ctx, "cat")
		if err != nil {
			t.Fatalf("GetImage: %v", err)
		}
		want := first
		want.UpdatedAt = time.Date(2031, 7, 8, 21, 59, 58, 123456000, time.UTC)
		if got != want {
			t.Errorf("GetImage = %+v, want %+v", got, want)
		}

		before := time.Now().UTC().Truncate(time.Microsecond)
		second := database.Image{Key: "cat", Location: "12/3456.jpg", Size: 42, ContentType: "image/jpeg"}
		prev, err = db.PutImage(ctx, second)
		after := time.Now().UTC()
		if err != nil {
			t.Fatalf("PutImage(replace): %v", err)
		}
		if prev != first.Location {
			t.Errorf("PutImage(replace) previous = %q, want %q", prev, first.Location)
		}
		got, err = db.GetImage(ctx, "cat")
		if err != nil {
			t.Fatalf("GetImage: %v", err)
		}
		if got.Location != second.Location || got.Size != second.Size || got.ContentType != second.ContentType {
			t.Errorf("GetImage after replace = %+v, want the fields of %+v", got, second)
		}
		if got.UpdatedAt.Location() != time.UTC || got.UpdatedAt.Before(before) || got.UpdatedAt.After(after) {
			t.Errorf("UpdatedAt = %v, want now in UTC, in [%v, %v]", got.UpdatedAt, before, after)
		}
		if n, err := db.CountImages(ctx); err != nil || n != 1 {
			t.Errorf("CountImages = %d, %v; want 1, nil", n, err)
		}
	})
}

func TestKeysAreByteExact(t *testing.T) {
	keys := []string{
		"a", "A", "a ", "a  ", " a", "é", "e\u0301", "ß", "ss", "Ä", "ä",
		"x/../y", "emoji 😀", strings.Repeat("€", 85), // 255 bytes
	}
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		for i, k := range keys {
			prev, err := db.PutImage(ctx, database.Image{Key: k, Location: fmt.Sprintf("loc-%d", i)})
			if err != nil {
				t.Fatalf("PutImage(%q): %v", k, err)
			}
			if prev != "" {
				t.Errorf("PutImage(%q) previous = %q, want \"\": collided with another key", k, prev)
			}
		}
		for i, k := range keys {
			img, err := db.GetImage(ctx, k)
			if err != nil {
				t.Errorf("GetImage(%q): %v", k, err)
				continue
			}
			if want := fmt.Sprintf("loc-%d", i); img.Key != k || img.Location != want {
				t.Errorf("GetImage(%q) = key %q location %q, want key %q location %q", k, img.Key, img.Location, k, want)
			}
		}
		if _, err := db.GetImage(ctx, "a   "); !errors.Is(err, database.ErrNotFound) {
			t.Errorf("GetImage(%q) error = %v, want ErrNotFound", "a   ", err)
		}

		list, err := db.ListImages(ctx)
		if err != nil {
			t.Fatalf("ListImages: %v", err)
		}
		var got []string
		for _, img := range list {
			got = append(got, img.Key)
		}
		want := slices.Sorted(slices.Values(keys)) // byte order
		if !slices.Equal(got, want) {
			t.Errorf("ListImages keys = %q, want %q", got, want)
		}
		if n, err := db.CountImages(ctx); err != nil || n != len(keys) {
			t.Errorf("CountImages = %d, %v; want %d, nil", n, err, len(keys))
		}
	})
}

func TestPutImageRefuses(t *testing.T) {
	tests := []struct {
		name string
		img  database.Image
	}{
		{"empty key", database.Image{Key: "", Location: "f"}},
		{"key over 255 bytes", database.Image{Key: strings.Repeat("€", 85) + "x", Location: "f"}},
		{"empty location", database.Image{Key: "k"}},
		{"location over 255 bytes", database.Image{Key: "k", Location: strings.Repeat("l", 256)}},
		{"content type over 64 bytes", database.Image{Key: "k", Location: "f", ContentType: strings.Repeat("c", 65)}},
	}
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := db.PutImage(ctx, tt.img); err == nil {
					t.Errorf("PutImage(%s) succeeded, want an error", tt.name)
				}
			})
		}
		if n, err := db.CountImages(ctx); err != nil || n != 0 {
			t.Errorf("CountImages after refusals = %d, %v; want 0, nil", n, err)
		}
	})
}

func TestDeleteAllImages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)

		locs, err := db.DeleteAllImages(ctx)
		if err != nil || len(locs) != 0 {
			t.Fatalf("DeleteAllImages(empty) = %q, %v; want none, nil", locs, err)
		}
		for _, k := range []string{"c", "a", "b"} {
			if _, err := db.PutImage(ctx, database.Image{Key: k, Location: "file-" + k}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.PutImage(ctx, database.Image{Key: "b", Location: "file-b2"}); err != nil {
			t.Fatal(err)
		}
		locs, err = db.DeleteAllImages(ctx)
		if err != nil {
			t.Fatalf("DeleteAllImages: %v", err)
		}
		if want := []string{"file-a", "file-b2", "file-c"}; !slices.Equal(locs, want) {
			t.Errorf("DeleteAllImages = %q, want %q", locs, want)
		}
		if n, err := db.CountImages(ctx); err != nil || n != 0 {
			t.Errorf("CountImages after DeleteAllImages = %d, %v; want 0, nil", n, err)
		}
		if list, err := db.ListImages(ctx); err != nil || len(list) != 0 {
			t.Errorf("ListImages after DeleteAllImages = %v, %v; want none, nil", list, err)
		}
		if _, err := db.GetImage(ctx, "a"); !errors.Is(err, database.ErrNotFound) {
			t.Errorf("GetImage after DeleteAllImages error = %v, want ErrNotFound", err)
		}
	})
}

// put records one PutImage call and what it returned.
type put struct {
	Key, Location, Previous string
}

// checkPuts checks that successful concurrent puts accounted for every
// location exactly once: each written location was either returned as a
// later put's previous one, or is still the key's current location.
func checkPuts(t *testing.T, db *database.DB, puts []put) {
	t.Helper()
	keyOf := map[string]string{}
	for _, p := range puts {
		if _, dup := keyOf[p.Location]; dup {
			t.Fatalf("test bug: location %q written twice", p.Location)
		}
		keyOf[p.Location] = p.Key
	}
	seen := map[string]int{}
	newKeys := map[string]int{}
	for _, p := range puts {
		if p.Previous == "" {
			newKeys[p.Key]++
			continue
		}
		seen[p.Previous]++
		if k, ok := keyOf[p.Previous]; !ok || k != p.Key {
			t.Errorf("PutImage(%q) previous = %q, which was written under key %q (%v)", p.Key, p.Previous, k, ok)
		}
	}
	for k, n := range newKeys {
		if n != 1 {
			t.Errorf("key %q was reported new by %d puts, want 1", k, n)
		}
	}
	imgs, err := db.ListImages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != len(newKeys) {
		t.Errorf("ListImages has %d keys, want %d", len(imgs), len(newKeys))
	}
	for _, img := range imgs {
		seen[img.Location]++
	}
	for loc := range keyOf {
		if seen[loc] != 1 {
			t.Errorf("location %q accounted for %d times, want exactly once", loc, seen[loc])
		}
	}
}

// putConcurrently runs workers goroutines that each put perWorker images
// on keys in round robin, and returns every put.
func putConcurrently(t *testing.T, db *database.DB, prefix string, workers, perWorker int, keys []string) []put {
	t.Helper()
	ctx := context.Background()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		puts []put
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				p := put{Key: keys[(w+i)%len(keys)], Location: fmt.Sprintf("%s-%d-%d", prefix, w, i)}
				prev, err := db.PutImage(ctx, database.Image{Key: p.Key, Location: p.Location, Size: int64(i)})
				if err != nil {
					t.Errorf("PutImage(%q, %q): %v", p.Key, p.Location, err)
					continue
				}
				p.Previous = prev
				mu.Lock()
				puts = append(puts, p)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return puts
}

func TestPutImageConcurrent(t *testing.T) {
	keys := []string{"hot", "warm", "Hot"}
	dbtest.Each(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		puts := putConcurrently(t, db, "loc", 16, 25, keys)
		if len(puts) != 16*25 {
			t.Fatalf("%d puts succeeded, want %d", len(puts), 16*25)
		}
		checkPuts(t, db, puts)
	})
}

// TestPutImageConcurrentNewKeys races uploads of many new keys, the case
// that deadlocks InnoDB when the row is first looked up with FOR UPDATE.
func TestPutImageConcurrentNewKeys(t *testing.T) {
	var keys []string
	for i := range 64 {
		keys = append(keys, fmt.Sprintf("key-%02d", i))
	}
	dbtest.Each(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		puts := putConcurrently(t, db, "loc", 16, 8, keys)
		checkPuts(t, db, puts)
	})
}

func TestDeleteAllRacesPut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		var (
			wg      sync.WaitGroup
			deleted []string
		)
		wg.Go(func() {
			for range 5 {
				locs, err := db.DeleteAllImages(ctx)
				if err != nil {
					t.Errorf("DeleteAllImages: %v", err)
					return
				}
				deleted = append(deleted, locs...)
			}
		})
		puts := putConcurrently(t, db, "loc", 4, 25, []string{"a", "b", "c"})
		wg.Wait()

		// Every location is returned once: as some put's previous, by a
		// DeleteAllImages, or as a current row.
		seen := map[string]int{}
		for _, p := range puts {
			if p.Previous != "" {
				seen[p.Previous]++
			}
		}
		for _, loc := range deleted {
			seen[loc]++
		}
		imgs, err := db.ListImages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, img := range imgs {
			seen[img.Location]++
		}
		for _, p := range puts {
			if seen[p.Location] != 1 {
				t.Errorf("location %q accounted for %d times, want exactly once", p.Location, seen[p.Location])
			}
		}
	})
}

func TestNamedLocations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		for k, loc := range map[string]string{"a": "file-a", "b": "file-b"} {
			if _, err := db.PutImage(ctx, database.Image{Key: k, Location: loc}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.PutImage(ctx, database.Image{Key: "b", Location: "file-b2"}); err != nil { // file-b is now named by none
			t.Fatal(err)
		}
		got, err := db.NamedLocations(ctx, []string{"file-a", "file-b", "file-b2", "file-x"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]bool{"file-a": true, "file-b2": true}; !maps.Equal(got, want) {
			t.Errorf("NamedLocations = %v, want %v", got, want)
		}
		if got, err := db.NamedLocations(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("NamedLocations(none) = %v, %v; want empty", got, err)
		}
		if _, err := db.NamedLocations(ctx, make([]string, database.MaxNamedBatch+1)); err == nil {
			t.Errorf("NamedLocations over the batch limit: no error")
		}
	})
}

// TestCallDeadline: a call on a database that does not answer ends with its deadline, not when the
// database comes back. SQLite's lock held by another connection stands for a hung server.
func TestCallDeadline(t *testing.T) {
	ctx := context.Background()
	dsn := dbtest.DSN(t, database.SQLite)
	db := open(t, dsn)
	holder := open(t, dsn)
	tx, err := holder.SQL().BeginTx(ctx, nil) // _txlock=immediate: takes the write lock now
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	db.SetTimeout(200 * time.Millisecond)
	start := time.Now()
	_, err = db.PutImage(ctx, database.Image{Key: "k", Location: "l"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PutImage under a held lock = %v, want DeadlineExceeded", err)
	}
	// Not a timing assertion on the code: busy_timeout is 5 s, so a call that waited for the lock
	// instead of its deadline would take that long.
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("PutImage took %v: it waited for the lock, not its deadline", d)
	}
}
