package app_test

import (
	"encoding/base64"
	"sync"
	"sync/atomic"
	"testing"

	"imgcache/app/apptest"
)

// staleRace is the stale-read test the read path is measured by: one writer per key uploads versions
// 2..versions of it through writeBase, in order, while readers read the keys through readBase; a
// read returning an older version than the last one acknowledged before it started fails the test.
// during, if set, runs beside them (a memcache stopped, a pool resized), told the acknowledged
// uploads so far and when the writers are done; the readers stop once the writers and during have.
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
	t.Logf("%d uploads, %d reads, %d stale", uploads.Load(), reads.Load(), stale.Load())
	if reads.Load() < 100 {
		t.Errorf("only %d reads raced the uploads; the test proves little", reads.Load())
	}
}
