package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"imgcache/app"
	"imgcache/app/imagestore"
	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache"
	"imgcache/memcache/cache"
	"imgcache/memcache/client"
)

// TestNoStaleReads runs writers and readers on a few keys; a reader that starts after an upload was
// acknowledged must never see an older version.
func TestNoStaleReads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		st := startStack(t, dsn, nil)
		base := st.Backend.URL()
		keys := []string{"k0", "k1", "k2"}
		acked := make([]atomic.Int64, len(keys))
		images := map[int][]byte{}
		const versions = 60
		for v := 1; v <= versions; v++ {
			images[v] = pngImage(t, v)
		}
		for i, k := range keys {
			if status, _ := upload(t, base, k, images[1]); status != 200 {
				t.Fatalf("seed upload %q = %d", k, status)
			}
			acked[i].Store(1)
		}
		var reads, stale atomic.Int64
		stop := make(chan struct{})
		var writers, readers sync.WaitGroup
		for i, k := range keys { // one writer per key, so versions are acknowledged in order
			writers.Add(1)
			go func() {
				defer writers.Done()
				for v := 2; v <= versions; v++ {
					if status, a := upload(t, base, k, images[v]); status != 200 {
						t.Errorf("upload %q v%d = %d %+v", k, v, status, a)
						return
					}
					acked[i].Store(int64(v))
				}
			}()
		}
		for r := range 6 {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					i := (n + r) % len(keys)
					floor := acked[i].Load()
					status, a := readKey(t, base, keys[i])
					if status != 200 {
						t.Errorf("read %q = %d", keys[i], status)
						return
					}
					data, _ := base64.StdEncoding.DecodeString(a.Content)
					reads.Add(1)
					if got := pngVersion(t, data); int64(got) < floor {
						stale.Add(1)
						t.Errorf("read of %q returned v%d after v%d was acknowledged", keys[i], got, floor)
					}
				}
			}()
		}
		// Readers run until the writers are done.
		writers.Wait()
		close(stop)
		readers.Wait()
		t.Logf("%d uploads, %d reads, %d stale", len(keys)*(versions-1), reads.Load(), stale.Load())
		if reads.Load() < 100 {
			t.Errorf("only %d reads raced the uploads; the test proves little", reads.Load())
		}
	})
}

// fakeCache is an in-memory Cache with leases whose calls can be made to fail.
type fakeCache struct {
	mu        sync.Mutex
	values    map[string][]byte
	leases    map[string]cache.Lease
	next      cache.Lease
	down      bool   // every call fails as if the service were unreachable
	failInval bool   // only invalidations and clears fail
	afterInv  func() // runs after a successful invalidation, outside the lock
	gets      int
}

var _ app.Cache = (*fakeCache)(nil)

func newFakeCache() *fakeCache {
	return &fakeCache{values: map[string][]byte{}, leases: map[string]cache.Lease{}}
}

var errDown = client.ErrUnavailable

func (f *fakeCache) AppendGet(_ context.Context, dst []byte, key string) ([]byte, cache.Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return dst, 0, errDown
	}
	f.gets++
	if v, ok := f.values[key]; ok {
		return append(dst, v...), 0, nil
	}
	if _, ok := f.leases[key]; !ok {
		f.next++
		f.leases[key] = f.next
	}
	return dst, f.leases[key], client.ErrMiss
}

func (f *fakeCache) Fill(_ context.Context, key string, value []byte, lease cache.Lease) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	if f.leases[key] != lease {
		return client.ErrLeaseRevoked
	}
	delete(f.leases, key)
	f.values[key] = value
	return nil
}

func (f *fakeCache) Invalidate(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down || f.failInval {
		return errDown
	}
	delete(f.values, key)
	delete(f.leases, key)
	if hook := f.afterInv; hook != nil {
		f.afterInv = nil
		f.mu.Unlock()
		hook()
		f.mu.Lock()
	}
	return nil
}

func (f *fakeCache) Clear(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down || f.failInval {
		return errDown
	}
	clear(f.values)
	clear(f.leases)
	return nil
}

func (f *fakeCache) Refresh(context.Context) error { return nil }

func (f *fakeCache) Stats(context.Context) (memcache.Stats, error) { return memcache.Stats{}, nil }

func (f *fakeCache) set(fn func(*fakeCache)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// newFakeServer is a backend over a fake cache, the real database and real files, used through its methods.
func newFakeServer(t testing.TB, logs *bytes.Buffer) (*app.Server, *fakeCache) {
	t.Helper()
	db, err := database.Open(context.Background(), dbtest.DSNFor(t, database.SQLite))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	files, err := imagestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fc := newFakeCache()
	log := slog.New(slog.NewTextHandler(logs, nil))
	return app.New(app.Config{Logger: log}, fc, db, files), fc
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
	return pngVersion(t, data), img.FromCache
}

// TestFailedInvalidationBypassesCache: when an upload cannot invalidate the cache (which still holds the
// old image), reads of that key skip the cache until an invalidation goes through.
func TestFailedInvalidationBypassesCache(t *testing.T) {
	var logs bytes.Buffer
	s, fc := newFakeServer(t, &logs)
	ctx := context.Background()
	if err := s.Upload(ctx, "k", pngImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	readVersion(t, s, "k") // miss, fill
	if v, hit := readVersion(t, s, "k"); v != 1 || !hit {
		t.Fatalf("second read = v%d hit %v, want v1 from the cache", v, hit)
	}
	fc.set(func(f *fakeCache) { f.failInval = true })
	if err := s.Upload(ctx, "k", pngImage(t, 2)); err != nil {
		t.Fatalf("upload while invalidation fails: %v", err)
	}
	for range 3 {
		if v, hit := readVersion(t, s, "k"); v != 2 || hit {
			t.Fatalf("read after a failed invalidation = v%d hit %v; want v2 from disk", v, hit)
		}
	}
	fc.set(func(f *fakeCache) { f.failInval = false })
	if v, _ := readVersion(t, s, "k"); v != 2 {
		t.Fatalf("read after recovery = v%d, want v2", v)
	}
	if v, hit := readVersion(t, s, "k"); v != 2 || !hit {
		t.Errorf("second read after recovery = v%d hit %v, want v2 from the cache", v, hit)
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
		if err := s.Upload(ctx, "k", pngImage(t, v)); err != nil {
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

// TestConcurrentMissesReadOnce: concurrent misses of one key share one load and one fill.
func TestConcurrentMissesReadOnce(t *testing.T) {
	var logs bytes.Buffer
	s, fc := newFakeServer(t, &logs)
	ctx := context.Background()
	if err := s.Upload(ctx, "k", pngImage(t, 7)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, _ := readVersion(t, s, "k"); v != 7 {
				t.Errorf("read v%d, want v7", v)
			}
		}()
	}
	wg.Wait()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if _, ok := fc.values["k"]; !ok {
		t.Errorf("the cache was not filled")
	}
}

// TestRealMemcacheDown stops the real memcache service under a running backend.
func TestRealMemcacheDown(t *testing.T) {
	st := startStack(t, dbtest.DSN(t, database.SQLite), nil)
	base := st.Backend.URL()
	if status, _ := upload(t, base, "k", pngImage(t, 1)); status != 200 {
		t.Fatal("seed upload failed")
	}
	readKey(t, base, "k")
	if err := st.Memcache.Close(); err != nil {
		t.Fatal(err)
	}
	if status, a := upload(t, base, "k", pngImage(t, 2)); status != 200 {
		t.Fatalf("upload with memcache down = %d %+v, want 200", status, a)
	}
	status, a := readKey(t, base, "k")
	data, _ := base64.StdEncoding.DecodeString(a.Content)
	if status != 200 || pngVersion(t, data) != 2 {
		t.Errorf("read with memcache down = %d, want 200 and v2", status)
	}
	if status, a := call(t, "POST", base+"/api/list_keys", "", nil); status != 200 || len(a.Keys) != 1 {
		t.Errorf("list_keys with memcache down = %d %v", status, a.Keys)
	}
	if status, _ := call(t, "POST", base+"/api/delete_all", "", nil); status != 200 {
		t.Errorf("delete_all with memcache down = %d, want 200", status)
	}
}

// TestRetryKeepsANewerMark: a read retrying a failed invalidation must not erase the mark of an upload
// whose own invalidation failed while the retry was in flight; meanwhile an old image got into the cache.
func TestRetryKeepsANewerMark(t *testing.T) {
	s, fc := newFakeServer(t, &bytes.Buffer{})
	ctx := context.Background()
	if err := s.Upload(ctx, "k", pngImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	readVersion(t, s, "k")
	fc.set(func(f *fakeCache) { f.failInval = true })
	if err := s.Upload(ctx, "k", pngImage(t, 2)); err != nil { // marks k
		t.Fatal(err)
	}
	fc.set(func(f *fakeCache) {
		f.failInval = false
		f.afterInv = func() { // the retry of the next read has just succeeded
			fc.set(func(f *fakeCache) { f.failInval = true })
			if err := s.Upload(ctx, "k", pngImage(t, 3)); err != nil { // marks k again
				t.Error(err)
			}
			fc.set(func(f *fakeCache) {
				f.failInval = false
				f.values["k"] = []byte(base64.StdEncoding.EncodeToString(pngImage(t, 2))) // a fill that slipped in
			})
		}
	})
	for i := range 3 {
		if v, _ := readVersion(t, s, "k"); v != 3 {
			t.Fatalf("read %d after v3 was acknowledged = v%d, want v3", i, v)
		}
	}
}

// TestNewServerDistrustsTheCache: a previous backend may have died between a commit and its
// invalidation, so a new one clears the cache before its first cached read.
func TestNewServerDistrustsTheCache(t *testing.T) {
	s, fc := newFakeServer(t, &bytes.Buffer{})
	ctx := context.Background()
	if err := s.Upload(ctx, "k", pngImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	fc.set(func(f *fakeCache) { f.values["k"] = []byte(base64.StdEncoding.EncodeToString(pngImage(t, 0))) })
	if v, hit := readVersion(t, s, "k"); v != 1 || hit {
		t.Errorf("first read = v%d hit %v, want v1 from disk", v, hit)
	}
}
