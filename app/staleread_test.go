package app_test

import (
	"bufio"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"imgcache/app/apptest"
)

// minCacheReads is how many of a stale-read race's reads must come from the cache.
const minCacheReads = 50

// cacheReads is the backend's count of images read from the cache, from its /metrics.
func cacheReads(t *testing.T, base string) int64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Errorf("metrics: %v", err)
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "imgcache_image_reads_total{") && strings.Contains(line, `source="cache"`) {
			f := strings.Fields(line)
			n, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				t.Errorf("metrics line %q: %v", line, err)
			}
			return int64(n)
		}
	}
	return 0 // no read from the cache yet: the series appears with the first
}

// staleRace is the stale-read test the read path is measured by: one writer per key uploads versions
// 2..versions of it through writeBase, in order, while readers read the keys through readBase; a
// read returning an older version than the last one acknowledged before it started fails the test.
// during, if set, runs beside them (a memcache stopped, a pool resized), told the acknowledged
// uploads so far and when the writers are done; the readers stop once the writers and during have.
// At least minCacheReads of the reads must come from the cache, or the race proves nothing about it.
func staleRace(t *testing.T, writeBase, readBase string, keys []string, versions, readers int,
	during func(writersDone <-chan struct{}, acked func() int64)) {
	t.Helper()
	images := make([][]byte, versions+1)
	for v := 1; v <= versions; v++ {
		images[v] = apptest.PNGImage(t, v)
	}
	floors := make([]atomic.Int64, len(keys))
	for i, k := range keys {
		if status, _ := apptest.Upload(t, writeBase, k, images[1]); status != 200 {
			t.Fatalf("seed upload %q = %d", k, status)
		}
		floors[i].Store(1)
	}
	var uploads, reads, stale atomic.Int64
	hitsBefore := cacheReads(t, readBase)
	writersDone, stop := make(chan struct{}), make(chan struct{})
	var writers, others, readersWG sync.WaitGroup
	for i, k := range keys {
		writers.Go(func() {
			for v := 2; v <= versions; v++ {
				if status, a := apptest.Upload(t, writeBase, k, images[v]); status != 200 {
					t.Errorf("upload %q v%d = %d %+v", k, v, status, a)
					return
				}
				floors[i].Store(int64(v))
				uploads.Add(1)
			}
		})
	}
	if during != nil {
		others.Go(func() { during(writersDone, uploads.Load) })
	}
	for r := range readers {
		readersWG.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := (n + r) % len(keys)
				floor := floors[i].Load()
				status, a := apptest.ReadKey(t, readBase, keys[i])
				if status != 200 {
					t.Errorf("read %q = %d", keys[i], status)
					return
				}
				data, _ := base64.StdEncoding.DecodeString(a.Content)
				reads.Add(1)
				if got := apptest.PNGVersion(t, data); int64(got) < floor {
					stale.Add(1)
					t.Errorf("read of %q returned v%d after v%d was acknowledged", keys[i], got, floor)
				}
			}
		})
	}
	writers.Wait()
	close(writersDone)
	others.Wait()
	close(stop)
	readersWG.Wait()
	hits := cacheReads(t, readBase) - hitsBefore
	t.Logf("%d uploads, %d reads (%d from the cache), %d stale", uploads.Load(), reads.Load(), hits, stale.Load())
	if reads.Load() < 100 {
		t.Errorf("only %d reads raced the uploads; the test proves little", reads.Load())
	}
	// With the cache off, or every read missing it, no read could be stale through it: the test
	// would pass and prove nothing about the cache. (A fault during the race may send most reads to
	// the store, hence a count rather than a share.)
	if hits < minCacheReads {
		t.Errorf("only %d of %d reads hit the cache during the race; want at least %d", hits, reads.Load(), minCacheReads)
	}
}
