package app_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"imgcache/app"
	"imgcache/app/imagestore"
	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache/wire"
)

// fakeCache is an in-memory Cache with the memcache's lease protocol, whose calls can be made to fail.
type fakeCache struct {
	mu        sync.Mutex
	values    map[string][]byte
	leases    map[string]wire.Lease
	next      wire.Lease
	down      bool // every call fails as if the service were unreachable
	failInval bool // only invalidations and clears fail
	gets      int
	// onInvalidate, when set, runs at the start of every Invalidate, outside the lock.
	onInvalidate func(key string)
}

var _ app.Cache = (*fakeCache)(nil)

func newFakeCache() *fakeCache {
	return &fakeCache{values: map[string][]byte{}, leases: map[string]wire.Lease{}}
}

var errDown = fmt.Errorf("fake: %w", wire.ErrUnavailable)

func (f *fakeCache) AppendGet(_ context.Context, dst []byte, key string) ([]byte, wire.Lease, error) {
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
	return dst, f.leases[key], wire.ErrMiss
}

func (f *fakeCache) Fill(_ context.Context, key string, value []byte, lease wire.Lease) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	if f.leases[key] != lease {
		return wire.ErrLeaseRevoked
	}
	delete(f.leases, key)
	f.values[key] = value
	return nil
}

func (f *fakeCache) Invalidate(_ context.Context, key string) error {
	f.mu.Lock()
	hook := f.onInvalidate
	f.mu.Unlock()
	if hook != nil {
		hook(key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down || f.failInval {
		return errDown
	}
	delete(f.values, key)
	delete(f.leases, key)
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

func (f *fakeCache) Health(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	return nil
}

func (f *fakeCache) Stats(context.Context) (wire.Stats, error) { return wire.Stats{}, nil }

func (f *fakeCache) set(fn func(*fakeCache)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// cached returns the cached value under key.
func (f *fakeCache) cached(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.values[key]
	return v, ok
}

// fakeStore is an in-memory Store whose PutImage can be made to fail.
type fakeStore struct {
	mu      sync.Mutex
	rows    map[string]database.Image
	putErr  error            // returned by PutImage after (commit) or instead of (no commit) the write
	commits bool             // whether a failing PutImage still commits: its error is then ErrCommitUnknown
	refuse  map[string]error // a row's own error, by key: PutImages fails that row only

	lookups, groups int // GetImages and PutImages calls
	// When set, GetImages (after reading the rows) and PutImages (before writing them) wait for
	// their gate to close.
	lookupGate, commitGate chan struct{}
}

var _ app.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore { return &fakeStore{rows: map[string]database.Image{}} }

func (f *fakeStore) Ping(context.Context) error { return nil }

func (f *fakeStore) GetImage(_ context.Context, key string) (database.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	row, ok := f.rows[key]
	if !ok {
		return row, fmt.Errorf("fake: %w", database.ErrNotFound)
	}
	return row, nil
}

func (f *fakeStore) GetImages(_ context.Context, keys []string) ([]database.Image, error) {
	f.mu.Lock()
	f.lookups++
	var out []database.Image
	for _, k := range keys {
		if r, ok := f.rows[k]; ok {
			out = append(out, r)
		}
	}
	gate := f.lookupGate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return out, nil
}

// PutImages is PutImage's fake for a group: a refused key fails alone, putErr fails the group.
func (f *fakeStore) PutImages(ctx context.Context, imgs []database.Image) []database.PutResult {
	f.mu.Lock()
	f.groups++
	refuse, gate := f.refuse, f.commitGate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	out := make([]database.PutResult, len(imgs))
	for i, img := range imgs {
		if err := refuse[img.Key]; err != nil {
			out[i].Err = err
			continue
		}
		out[i].Previous, out[i].Err = f.PutImage(ctx, img)
	}
	return out
}

// calls returns the numbers of GetImages and PutImages calls.
func (f *fakeStore) calls() (lookups, groups int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups, f.groups
}

func (f *fakeStore) PutImage(_ context.Context, img database.Image) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.putErr != nil && !f.commits {
		return "", f.putErr
	}
	prev := f.rows[img.Key].Location
	f.rows[img.Key] = img
	if f.putErr != nil { // the commit happened, but its answer was lost
		return prev, fmt.Errorf("%w: %w", database.ErrCommitUnknown, f.putErr)
	}
	return prev, nil
}

func (f *fakeStore) ListImages(context.Context) ([]database.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []database.Image
	for _, r := range f.rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (f *fakeStore) CountImages(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.rows), nil
}

func (f *fakeStore) DeleteAllImages(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var locs []string
	for _, r := range f.rows {
		locs = append(locs, r.Location)
	}
	clear(f.rows)
	return locs, nil
}

func (f *fakeStore) LatestCacheProperties(context.Context) (database.CacheProperties, error) {
	return database.CacheProperties{}, database.ErrNotFound
}

func (f *fakeStore) InsertCacheProperties(_ context.Context, p database.CacheProperties) (database.CacheProperties, error) {
	return p, nil
}

func (f *fakeStore) StatsSince(context.Context, time.Time) ([]database.StatsRow, error) {
	return nil, nil
}

func (f *fakeStore) NamedLocations(_ context.Context, locations []string) (map[string]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	named := map[string]bool{}
	for _, r := range f.rows {
		if slices.Contains(locations, r.Location) {
			named[r.Location] = true
		}
	}
	return named, nil
}

// fakeFiles is an in-memory Objects. onRead, when set, runs at the start of every Read, outside the lock.
type fakeFiles struct {
	mu     sync.Mutex
	data   map[string][]byte
	n      int
	reads  int
	onRead func(name string)
}

var _ app.Objects = (*fakeFiles)(nil)

func newFakeFiles() *fakeFiles { return &fakeFiles{data: map[string][]byte{}} }

func (f *fakeFiles) Put(_ context.Context, data []byte, contentType string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	name := fmt.Sprintf("%032x.png", f.n)
	f.data[name] = bytes.Clone(data)
	return name, nil
}

func (f *fakeFiles) Get(_ context.Context, name string) ([]byte, error) {
	f.mu.Lock()
	hook := f.onRead
	f.reads++
	f.mu.Unlock()
	if hook != nil {
		hook(name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.data[name]
	if !ok {
		return nil, fmt.Errorf("fake %s: %w", name, imagestore.ErrNotFound)
	}
	return d, nil
}

func (f *fakeFiles) Delete(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.data, name)
	return nil
}

func (f *fakeFiles) List(_ context.Context, fn func(string, time.Time) error) error {
	f.mu.Lock()
	names := slices.Sorted(maps.Keys(f.data))
	f.mu.Unlock()
	for _, n := range names {
		if err := fn(n, time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeFiles) has(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.data[name]
	return ok
}

func (f *fakeFiles) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
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

// fakeParts are the fakes of an all-fake server.
type fakeParts struct {
	cache *fakeCache
	store *fakeStore
	files *fakeFiles
}

// newAllFakeServer is a backend over fakes only: no goroutines besides the caller's, no I/O.
func newAllFakeServer(t testing.TB) (*app.Server, fakeParts) {
	t.Helper()
	p := fakeParts{newFakeCache(), newFakeStore(), newFakeFiles()}
	return app.New(app.Config{Logger: slog.New(slog.DiscardHandler)}, p.cache, p.store, p.files), p
}

func (f *fakeStore) FindImages(_ context.Context, q database.ImageQuery) (database.ImagePage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var page database.ImagePage
	var match []database.Image
	for _, r := range f.rows {
		if strings.HasPrefix(r.Key, q.Prefix) {
			match = append(match, r)
			page.Total++
			page.TotalBytes += r.Size
		}
	}
	slices.SortFunc(match, func(a, b database.Image) int {
		if c := bytes.Compare(database.SortKey(a.Key), database.SortKey(b.Key)); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if q.Offset < len(match) {
		page.Images = match[q.Offset:min(len(match), q.Offset+q.Limit)]
	}
	return page, nil
}

func (f *fakeStore) DeleteImage(_ context.Context, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rows[key]
	if !ok {
		return "", fmt.Errorf("fake: %w", database.ErrNotFound)
	}
	delete(f.rows, key)
	return r.Location, nil
}
