package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"imgcache/app"
	"imgcache/app/apptest"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// readPhase is what a phase of reads measured.
type readPhase struct {
	lat    []time.Duration // sorted
	failed int
}

func (r readPhase) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

func (r readPhase) String() string {
	return fmt.Sprintf("%d reads, %d failed, p50 %v, p99 %v, max %v", len(r.lat), r.failed,
		r.pct(0.5).Round(100*time.Microsecond), r.pct(0.99).Round(100*time.Microsecond), r.pct(1).Round(100*time.Microsecond))
}

// readFor runs readers concurrent readers of random keys through base for d.
func readFor(t *testing.T, base string, keys []string, readers int, d time.Duration) readPhase {
	t.Helper()
	var mu sync.Mutex
	var out readPhase
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for r := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			for time.Now().Before(end) {
				k := keys[rng.IntN(len(keys))]
				start := time.Now()
				resp, err := client.Post(base+"/api/key/"+k, "", nil)
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				took := time.Since(start)
				mu.Lock()
				if ok {
					out.lat = append(out.lat, took)
				} else {
					out.failed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(out.lat)
	return out
}

// breakerStates reads the backend's imgcache_memcache_node_breaker_state by node id.
func breakerStates(t *testing.T, base string) map[string]string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Errorf("metrics: %v", err)
		return nil
	}
	defer resp.Body.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "imgcache_memcache_node_breaker_state{") {
			continue
		}
		_, rest, _ := strings.Cut(line, `node="`)
		id, _, _ := strings.Cut(rest, `"`)
		f := strings.Fields(line)
		out[id] = f[len(f)-1]
	}
	return out
}

// TestHungNodeCostsOneShortDeadline stops (SIGSTOP) one of three memcache nodes under eight
// concurrent readers. The node still heartbeats in nobody's eyes but the backend's: its heartbeat
// lapse is set to a minute, so only the cache calls' short deadline and the breaker stand between
// the readers and the hung node. No read fails; the breaker ejects the node while it is stopped
// and brings it back after SIGCONT, when its keys hit again. The latencies are logged beside a
// run without the fault: they are the figure, not an assertion.
func TestHungNodeCostsOneShortDeadline(t *testing.T) {
	dsn := dbtest.DSN(t, database.SQLite)
	db := apptest.OpenDB(t, dsn) // the schema, before the processes open the file
	var nodes []*proc
	for range 3 {
		nodes = append(nodes, startProc(t, "memcache", "IMGCACHE_DB="+dsn, "IMGCACHE_MEMCACHE_SECRET="+apptest.StackSecret))
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	be, err := app.Start(context.Background(), app.Config{Addr: "127.0.0.1:0", MemcacheURL: nodes[0].url(), MemcacheSecret: apptest.StackSecret,
		DB: dsn, DataDir: t.TempDir(), PoolSync: 50 * time.Millisecond, NodeTimeout: time.Minute, SweepInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	for end := time.Now().Add(20 * time.Second); be.PoolSize() != 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the backend routes to %d nodes, want 3", be.PoolSize())
		}
	}
	ids, err := db.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stopped := ""
	for _, n := range ids {
		if n.Address == nodes[1].url() {
			stopped = fmt.Sprint(n.ID)
		}
	}
	base := be.URL()
	var keys []string
	for i := range 30 {
		k := fmt.Sprint("img", i)
		if status, _ := apptest.Upload(t, base, k, apptest.PNGImage(t, i)); status != 200 {
			t.Fatalf("upload %s = %d", k, status)
		}
		keys = append(keys, k)
	}
	warm := readFor(t, base, keys, 8, time.Second) // fills the cache
	hits := cacheReads(t, base)
	calm := readFor(t, base, keys, 8, 3*time.Second)
	if hits := cacheReads(t, base) - hits; hits < int64(len(calm.lat))/2 {
		t.Errorf("only %d of %d reads hit the cache before the fault", hits, len(calm.lat))
	}

	nodes[1].signal(syscall.SIGSTOP)
	fault := readFor(t, base, keys, 8, faultFor)
	during := breakerStates(t, base)[stopped]
	nodes[1].signal(syscall.SIGCONT)
	t.Logf("warm-up: %v", warm)
	t.Logf("no fault: %v", calm)
	t.Logf("node %s stopped for %v: %v", stopped, faultFor, fault)
	if calm.failed+fault.failed > 0 {
		t.Errorf("%d reads failed without the fault and %d with it, want none", calm.failed, fault.failed)
	}
	if during != "1" && during != "2" {
		t.Errorf("breaker of the stopped node %s during the fault: %q, want 1 (ejected) or 2 (probing)", stopped, during)
	}
	for end := time.Now().Add(20 * time.Second); breakerStates(t, base)[stopped] != "0"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the breaker of node %s is still open 20 s after SIGCONT", stopped)
		}
		readFor(t, base, keys, 1, 100*time.Millisecond) // reads of its keys probe it
	}
}

// faultFor is how long the hung-node test stops a node: the figure is for 10 s.
const faultFor = 10 * time.Second
