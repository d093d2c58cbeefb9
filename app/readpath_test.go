package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"imgcache/app/apptest"

	"imgcache/app"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// TestNoStaleReads runs writers and readers on a few keys; a reader that starts after an upload was
// acknowledged must never see an older version.
func TestNoStaleReads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		base := apptest.StartStack(t, dsn, nil).Backend.URL()
		staleRace(t, base, base, []string{"k0", "k1", "k2"}, 60, 6, nil)
	})
}

func readVersion(t *testing.T, s *app.Server, key string) (version int, fromCache bool) {
	t.Helper()
	img, err := s.Read(context.Background(), key, nil)
	if err != nil {
		t.Fatalf("Read(%q): %v", key, err)
	}
	data, err := base64.StdEncoding.DecodeString(string(img.Base64))
	if err != nil {
		t.Fatal(err)
	}
	return apptest.PNGVersion(t, data), img.FromCache
}

// location is the object name the row of key names.
func location(t *testing.T, st app.Store, key string) string {
	t.Helper()
	row, err := st.GetImage(context.Background(), key)
	if err != nil {
		t.Fatalf("GetImage(%q): %v", key, err)
	}
	return row.Location
}

// TestFailedInvalidationServesNoStale: when an upload cannot drop the replaced image from the cache,
// which still holds it, reads serve the new image all the same: the cache is asked for the new object's
// name, which nothing ever cached before.
func TestFailedInvalidationServesNoStale(t *testing.T) {
	s, p := newAllFakeServer(t)
	ctx := context.Background()
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	readVersion(t, s, "k") // miss, fill
	if v, hit := readVersion(t, s, "k"); v != 1 || !hit {
		t.Fatalf("second read = v%d hit %v, want v1 from the cache", v, hit)
	}
	old := location(t, p.store, "k")
	p.cache.set(func(f *fakeCache) { f.failInval = true })
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 2)); err != nil {
		t.Fatalf("upload while invalidation fails: %v", err)
	}
	if _, ok := p.cache.cached(old); !ok {
		t.Fatalf("the cache no longer holds the old image: the test proves nothing")
	}
	for i, wantHit := range []bool{false, true, true} {
		if v, hit := readVersion(t, s, "k"); v != 2 || hit != wantHit {
			t.Errorf("read %d after a failed invalidation = v%d hit %v; want v2 hit %v", i, v, hit, wantHit)
		}
	}
}

// TestOldCopiesAreNeverServed: whatever the cache holds under the key itself or under the object
// name an earlier row named (a previous backend that died before its invalidation, a fill that
// slipped in), a read returns the image the row names now.
func TestOldCopiesAreNeverServed(t *testing.T) {
	s, p := newAllFakeServer(t)
	ctx := context.Background()
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	old := location(t, p.store, "k")
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 2)); err != nil {
		t.Fatal(err)
	}
	stale := []byte(base64.StdEncoding.EncodeToString(apptest.PNGImage(t, 1)))
	p.cache.set(func(f *fakeCache) { f.values[old], f.values["k"] = stale, stale })
	for i := range 3 {
		if v, _ := readVersion(t, s, "k"); v != 2 {
			t.Fatalf("read %d = v%d, want v2", i, v)
		}
	}
}

// TestUploadForgetsTheReplacedObject: the replaced image leaves the cache and the store at once,
// rather than waiting for eviction.
func TestUploadForgetsTheReplacedObject(t *testing.T) {
	s, p := newAllFakeServer(t)
	ctx := context.Background()
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	readVersion(t, s, "k") // fills the cache under the first object's name
	old := location(t, p.store, "k")
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 2)); err != nil {
		t.Fatal(err)
	}
	s.Settle() // the invalidation runs after the answer
	if _, ok := p.cache.cached(old); ok {
		t.Errorf("the cache still holds the replaced object %s", old)
	}
	if p.files.has(old) {
		t.Errorf("the store still holds the replaced object %s", old)
	}
}

// TestSlowFillOfAReplacedObjectIsRefused: a miss whose load finishes after an upload replaced the
// object fills under a lease that the upload's invalidation revoked, so the cache keeps no copy of an
// object no row names.
func TestSlowFillOfAReplacedObjectIsRefused(t *testing.T) {
	s, p := newAllFakeServer(t)
	ctx := context.Background()
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	old := location(t, p.store, "k")
	// The first read's load is overtaken, after it read the object, by an upload of v2. The hook runs
	// before the fake reads, so the object is removed under the reader: make the read see v1 still by
	// keeping a copy, as a real reader that opened the file would.
	v1, _ := p.files.Get(ctx, old)
	p.files.onRead = func(name string) {
		p.files.onRead = nil
		if err := s.Upload(ctx, "k", apptest.PNGImage(t, 2)); err != nil {
			t.Error(err)
		}
		p.files.mu.Lock()
		p.files.data[name] = v1
		p.files.mu.Unlock()
	}
	if v, hit := readVersion(t, s, "k"); v != 1 || hit {
		t.Fatalf("the overtaken read = v%d hit %v, want v1 (it began before the upload) from disk", v, hit)
	}
	s.Settle() // the upload's invalidation runs after its answer
	if _, ok := p.cache.cached(old); ok {
		t.Errorf("the slow fill stored the replaced object %s in the cache", old)
	}
	if v, _ := readVersion(t, s, "k"); v != 2 {
		t.Errorf("next read = v%d, want v2", v)
	}
}

// TestReadFollowsAReplacedRow: when the object a row names is removed between reading the row and
// reading the object (a concurrent upload), the read takes the new row.
func TestReadFollowsAReplacedRow(t *testing.T) {
	s, p := newAllFakeServer(t)
	ctx := context.Background()
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	p.files.onRead = func(string) {
		p.files.onRead = nil
		if err := s.Upload(ctx, "k", apptest.PNGImage(t, 2)); err != nil { // removes the object being read
			t.Error(err)
		}
	}
	if v, _ := readVersion(t, s, "k"); v != 2 {
		t.Errorf("read = v%d, want v2", v)
	}
}

// TestFailedCommit: when the commit fails, the new object is removed if the row certainly does not
// name it, and kept if the commit may have happened after all (a connection lost during COMMIT).
func TestFailedCommit(t *testing.T) {
	for _, tt := range []struct {
		name     string
		commits  bool
		wantKept bool
	}{{"not committed", false, false}, {"committed all the same", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			s, p := newAllFakeServer(t)
			p.store.putErr, p.store.commits = errors.New("connection lost"), tt.commits
			err := s.Upload(context.Background(), "k", apptest.PNGImage(t, 1))
			if !errors.Is(err, app.ErrUnavailable) {
				t.Errorf("Upload = %v, want ErrUnavailable", err)
			}
			if got := len(p.files.data); (got == 1) != tt.wantKept {
				t.Errorf("objects kept = %d, want kept %v", got, tt.wantKept)
			}
		})
	}
}

// TestCacheDown: with the cache unreachable, uploads and reads work from the database and disk, and the
// outage is logged once, not once per request.
func TestCacheDown(t *testing.T) {
	var logs bytes.Buffer
	s, fc := newFakeServer(t, &logs)
	ctx := context.Background()
	fc.set(func(f *fakeCache) { f.down = true })
	for v := 1; v <= 5; v++ {
		if err := s.Upload(ctx, "k", apptest.PNGImage(t, v)); err != nil {
			t.Fatalf("upload v%d with the cache down: %v", v, err)
		}
		if got, hit := readVersion(t, s, "k"); got != v || hit {
			t.Fatalf("read = v%d hit %v, want v%d from disk", got, hit, v)
		}
	}
	if n := strings.Count(logs.String(), "memcache unreachable"); n != 1 {
		t.Errorf("logged the outage %d times, want once:\n%s", n, logs.String())
	}
	fc.set(func(f *fakeCache) { f.down = false })
	readVersion(t, s, "k")
	if got, hit := readVersion(t, s, "k"); got != 5 || !hit {
		t.Errorf("after recovery: v%d hit %v, want v5 from the cache", got, hit)
	}
	if n := strings.Count(logs.String(), "memcache reachable again"); n != 1 {
		t.Errorf("logged the recovery %d times, want once", n)
	}
	if _, err := s.Read(ctx, "nope", nil); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Read of an unknown key = %v, want ErrNotFound", err)
	}
}

// TestConcurrentMissesReadOnce: concurrent misses of one object share one read of it and one fill.
// synctest.Wait returns once every reader is blocked: one inside the object read, the others waiting
// for its result, or (without the shared load) all of them inside the object read.
func TestConcurrentMissesReadOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p := newAllFakeServer(t)
		ctx := context.Background()
		if err := s.Upload(ctx, "k", apptest.PNGImage(t, 7)); err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		p.files.onRead = func(string) { <-release }
		const readers = 20
		var wg sync.WaitGroup
		for range readers {
			wg.Go(func() {
				if v, _ := readVersion(t, s, "k"); v != 7 {
					t.Errorf("read v%d, want v7", v)
				}
			})
		}
		synctest.Wait()
		if n := p.files.readCount(); n != 1 {
			t.Errorf("%d concurrent misses read the object %d times, want once", readers, n)
		}
		close(release)
		wg.Wait()
		if _, ok := p.cache.cached(location(t, p.store, "k")); !ok {
			t.Errorf("the cache was not filled")
		}
	})
}

// TestRealMemcacheDown stops the real memcache service under a running backend.
func TestRealMemcacheDown(t *testing.T) {
	st := apptest.StartStack(t, dbtest.DSN(t, database.SQLite), nil)
	base := st.Backend.URL()
	if status, _ := apptest.Upload(t, base, "k", apptest.PNGImage(t, 1)); status != 200 {
		t.Fatal("seed upload failed")
	}
	apptest.ReadKey(t, base, "k")
	if err := st.Memcache.Close(); err != nil {
		t.Fatal(err)
	}
	if status, a := apptest.Upload(t, base, "k", apptest.PNGImage(t, 2)); status != 200 {
		t.Fatalf("upload with memcache down = %d %+v, want 200", status, a)
	}
	status, a := apptest.ReadKey(t, base, "k")
	data, _ := base64.StdEncoding.DecodeString(a.Content)
	if status != 200 || apptest.PNGVersion(t, data) != 2 {
		t.Errorf("read with memcache down = %d, want 200 and v2", status)
	}
	if status, a := apptest.Call(t, "POST", base+"/api/list_keys", "", nil); status != 200 || len(a.Keys) != 1 {
		t.Errorf("list_keys with memcache down = %d %v", status, a.Keys)
	}
	if status, _ := apptest.Call(t, "POST", base+"/api/delete_all", "", nil); status != 200 {
		t.Errorf("delete_all with memcache down = %d, want 200", status)
	}
}

// TestReplacedObjectGoneBeforeInvalidation: an upload removes the replaced object from the store
// before it invalidates it in the cache, so that a read of the old row that misses after the
// invalidation finds no object to fill the cache with, under a lease nothing would revoke.
func TestReplacedObjectGoneBeforeInvalidation(t *testing.T) {
	s, p := newAllFakeServer(t)
	ctx := context.Background()
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	old := location(t, p.store, "k")
	invalidated := false
	p.cache.set(func(c *fakeCache) {
		c.onInvalidate = func(name string) {
			if name != old {
				return
			}
			invalidated = true
			if p.files.has(old) {
				t.Errorf("object %s invalidated while the store still holds it", old)
			}
		}
	})
	if err := s.Upload(ctx, "k", apptest.PNGImage(t, 2)); err != nil {
		t.Fatal(err)
	}
	s.Settle()
	if !invalidated {
		t.Errorf("the replaced object %s was never invalidated", old)
	}
}
