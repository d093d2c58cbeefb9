package app_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"imgcache/app/apptest"

	"imgcache/app/s3store/s3test"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// dataSet is a database and an image store that several backends share.
type dataSet struct {
	dsn     string
	storage []string // the backends' environment for the image store; none means the data folder
}

// dataSets are the combinations the process tests run on, in order: SQLite and a folder, MariaDB and
// a folder, MariaDB and S3 (versitygw). Each skips, saying why, when its server is missing.
var dataSets = []struct {
	name string
	make func(t *testing.T) dataSet
}{
	{"sqlite+folder", func(t *testing.T) dataSet { return dataSet{dsn: dbtest.DSN(t, database.SQLite)} }},
	{"mysql+folder", func(t *testing.T) dataSet { return dataSet{dsn: dbtest.DSN(t, database.MySQL)} }},
	{"mysql+s3", func(t *testing.T) dataSet {
		dsn := dbtest.DSN(t, database.MySQL)
		srv := s3test.Start(t)
		return dataSet{dsn: dsn, storage: []string{"IMGCACHE_STORAGE=" + srv.Spec(s3test.NewBucket()),
			"AWS_ACCESS_KEY_ID=" + s3test.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3test.SecretKey}}
	}},
}

// eachDataSet runs test on every data set, as named subtests.
func eachDataSet(t *testing.T, test func(t *testing.T, ds dataSet)) {
	for _, d := range dataSets {
		t.Run(d.name, func(t *testing.T) { test(t, d.make(t)) })
	}
}

// twoBackends starts a memcache and two backends on one data set, as processes.
func twoBackends(t *testing.T, ds dataSet) (mc, a, b *proc) {
	t.Helper()
	data := t.TempDir()
	const secret = "multi-secret"
	mc = startProc(t, "memcache", "IMGCACHE_DB="+ds.dsn, "IMGCACHE_MEMCACHE_SECRET="+secret)
	env := append([]string{"IMGCACHE_DB=" + ds.dsn, "IMGCACHE_DATA=" + data, "IMGCACHE_MEMCACHE_URL=" + mc.url(),
		"IMGCACHE_MEMCACHE_SECRET=" + secret}, ds.storage...)
	return mc, startProc(t, "backend", env...), startProc(t, "backend", env...)
}

// TestStaleReadsAcrossBackends: writers upload through backend A, readers read through backend B;
// once A acknowledged a version, B never returns an older one, while the memcache runs, while it is
// stopped (SIGSTOP) and after it is killed (SIGKILL) and restarted.
func TestStaleReadsAcrossBackends(t *testing.T) {
	eachDataSet(t, func(t *testing.T, ds dataSet) {
		mc, a, b := twoBackends(t, ds)
		keys := []string{"k0", "k1", "k2"}
		const versions = 45
		total := int64(len(keys) * (versions - 1))
		staleRace(t, a.url(), b.url(), keys, versions, 4, func(writersDone <-chan struct{}, acked func() int64) {
			waitFor := func(n int64) {
				for acked() < n {
					select {
					case <-writersDone:
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			}
			waitFor(total / 3)
			mc.signal(syscall.SIGSTOP)
			time.Sleep(1500 * time.Millisecond) // a stopped memcache, for a while: the point of the test
			mc.signal(syscall.SIGCONT)
			waitFor(2 * total / 3)
			mc.signal(syscall.SIGKILL)
			mc.wait()
			time.Sleep(500 * time.Millisecond) // a dead memcache, for a while
			restarted := cacheReads(t, b.url())
			mc.restart()
			// The readers go on until B reads from the restarted memcache again (its breaker's probe
			// brings the node back): the race covers the refilled cache, and counts its hits.
			for end := time.Now().Add(30 * time.Second); cacheReads(t, b.url()) < restarted+minCacheReads; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(end) {
					t.Errorf("B read %d images from the restarted memcache in 30 s, want %d", cacheReads(t, b.url())-restarted, minCacheReads)
					return
				}
			}
		})
	})
}

// TestDeleteAllAcrossBackends: delete_all through A is seen through B at once, even with B's reads
// cached a moment before.
func TestDeleteAllAcrossBackends(t *testing.T) {
	eachDataSet(t, testDeleteAllAcrossBackends)
}

func testDeleteAllAcrossBackends(t *testing.T, ds dataSet) {
	_, a, b := twoBackends(t, ds)
	for i := range 3 {
		if status, _ := apptest.Upload(t, a.url(), fmt.Sprint("k", i), apptest.PNGImage(t, i)); status != 200 {
			t.Fatal("upload failed")
		}
	}
	for range 2 {
		for i := range 3 {
			if status, _ := apptest.ReadKey(t, b.url(), fmt.Sprint("k", i)); status != 200 {
				t.Fatalf("read through B = %d", status)
			}
		}
	}
	if status, _ := apptest.Call(t, "POST", a.url()+"/api/delete_all", "", nil); status != 200 {
		t.Fatalf("delete_all through A = %d", status)
	}
	for i := range 3 {
		if status, _ := apptest.ReadKey(t, b.url(), fmt.Sprint("k", i)); status != 404 {
			t.Errorf("read of k%d through B after delete_all through A = %d, want 404", i, status)
		}
	}
	if _, ans := apptest.Call(t, "POST", b.url()+"/api/list_keys", "", nil); len(ans.Keys) != 0 {
		t.Errorf("keys through B after delete_all through A: %q", ans.Keys)
	}
}

// TestKillBackendDuringUploads: a backend killed with SIGKILL among uploads loses none it
// acknowledged: after a restart each is read back as uploaded, from the folder or from S3.
func TestKillBackendDuringUploads(t *testing.T) {
	eachDataSet(t, testKillBackendDuringUploads)
}

func testKillBackendDuringUploads(t *testing.T, ds dataSet) {
	_, a, _ := twoBackends(t, ds)
	var mu sync.Mutex
	acked := map[string]int{}
	var n atomic.Int64
	var uploaders sync.WaitGroup
	for u := range 4 {
		uploaders.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("u%d-%d", u, i)
				status, _, err := tryUpload(a.url(), key, apptest.PNGImage(t, u*1000+i))
				if err != nil || status != 200 {
					return // the backend died under us: what was not acknowledged may be lost
				}
				mu.Lock()
				acked[key] = u*1000 + i
				mu.Unlock()
				n.Add(1)
			}
		})
	}
	for n.Load() < 40 {
		time.Sleep(5 * time.Millisecond) // waiting on uploads in another process
	}
	a.signal(syscall.SIGKILL)
	uploaders.Wait()
	a.restart()
	lost := 0
	for key, v := range acked {
		status, ans := apptest.ReadKey(t, a.url(), key)
		data, _ := base64.StdEncoding.DecodeString(ans.Content)
		if status != 200 || apptest.PNGVersion(t, data) != v {
			lost++
			t.Errorf("acknowledged upload %q (v%d) reads back as %d", key, v, status)
		}
	}
	t.Logf("%d acknowledged uploads before the kill, %d lost", len(acked), lost)
}

// tryUpload uploads without failing the test, for uploads to a backend that may die.
func tryUpload(base, key string, file []byte) (int, []byte, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("key", key)
	fw, _ := w.CreateFormFile("file", "x.png")
	fw.Write(file)
	w.Close()
	resp, err := http.Post(base+"/api/upload", w.FormDataContentType(), &body)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
