package cost

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeStat writes a fake /proc/PID/stat with utime and stime in ticks.
func writeStat(t *testing.T, proc string, pid int, utime, stime uint64) {
	t.Helper()
	dir := filepath.Join(proc, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	line := fmt.Sprintf("%d (my (odd) name) S 1 1 1 0 -1 4194560 100 0 0 0 %d %d 0 0 20 0 4 0 100 1000 10\n", pid, utime, stime)
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeMetrics serves a backend's /metrics with the counters at *gets and *queries.
func fakeMetrics(t *testing.T, gets, queries *int, omit string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		b.WriteString("# HELP imgcache_image_reads_total Reads.\n# TYPE imgcache_image_reads_total counter\nimgcache_image_reads_total{source=\"cache\"} 99\n")
		if omit != MetricStorageGets {
			fmt.Fprintf(&b, "# HELP %s Objects read.\n# TYPE %s counter\n%s %d\n", MetricStorageGets, MetricStorageGets, MetricStorageGets, *gets)
		}
		if omit != MetricDBQueries {
			fmt.Fprintf(&b, "# HELP %s Queries.\n# TYPE %s counter\n", MetricDBQueries, MetricDBQueries)
			fmt.Fprintf(&b, "%s{op=\"lookup\"} %d\n%s{op=\"commit\"} %d\n", MetricDBQueries, *queries, MetricDBQueries, 2*(*queries))
		}
		w.Write([]byte(b.String()))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestMeter(t *testing.T) {
	proc := t.TempDir()
	self := os.Getpid()
	writeStat(t, proc, 11, 100, 50) // a backend
	writeStat(t, proc, 12, 10, 5)   // another
	writeStat(t, proc, 21, 7, 3)    // a memcache node
	writeStat(t, proc, self, 1000, 0)
	g1, q1, g2, q2 := 10, 20, 5, 1
	m := New(proc, map[string][]int{TierBackend: {11, 12}, TierMemcache: {21}, TierStorage: {31}}, []string{fakeMetrics(t, &g1, &q1, ""), fakeMetrics(t, &g2, &q2, "") + "/"})
	ctx := context.Background()
	a := m.Snapshot(ctx)
	if !a.CountersOK || a.StorageGets != 15 || a.DBQueries != 3*20+3*1 {
		t.Fatalf("first snapshot %+v: want both backends' counters summed over labels", a)
	}
	writeStat(t, proc, 11, 130, 70) // +50 ticks
	writeStat(t, proc, 12, 12, 5)   // +2
	writeStat(t, proc, 21, 7, 4)    // +1
	writeStat(t, proc, self, 1010, 1)
	writeStat(t, proc, 31, 5, 5) // started after a: does not count
	g1, q1, g2, q2 = 14, 25, 6, 2
	st := Between(a, m.Snapshot(ctx))
	tick := int64(time.Second / userHZ)
	want := map[string]int64{TierBackend: 52 * tick, TierMemcache: 1 * tick, TierLoadgen: 11 * tick}
	if fmt.Sprint(st.CPUNs) != fmt.Sprint(want) {
		t.Errorf("CPU %v, want %v", st.CPUNs, want)
	}
	if st.StorageGets == nil || *st.StorageGets != 5 || st.DBQueries == nil || *st.DBQueries != 3*5+3*1 {
		t.Errorf("storage gets %v, queries %v; want 5 and 18", st.StorageGets, st.DBQueries)
	}
	if got := strings.Join(m.Tiers(), ","); got != "backend,loadgen,memcache,storage" {
		t.Errorf("tiers %s", got)
	}
}

// A backend without the counters gives no figures rather than zeros.
func TestMeterMissingCounter(t *testing.T) {
	for _, omit := range []string{MetricStorageGets, MetricDBQueries} {
		g, q := 1, 1
		m := New(t.TempDir(), nil, []string{fakeMetrics(t, &g, &q, omit)})
		s := m.Snapshot(context.Background())
		if s.CountersOK {
			t.Errorf("without %s: CountersOK", omit)
		}
		if st := Between(s, s); st.StorageGets != nil || st.DBQueries != nil {
			t.Errorf("without %s: %+v, want no counts", omit, st)
		}
	}
	m := New(t.TempDir(), nil, []string{"http://127.0.0.1:1"})
	if s := m.Snapshot(context.Background()); s.CountersOK {
		t.Error("an unreachable backend: CountersOK")
	}
}

func TestParseCountersBad(t *testing.T) {
	if _, _, err := ParseCounters(strings.NewReader("not { metrics")); err == nil {
		t.Error("garbage parsed")
	}
}

func FuzzParseCounters(f *testing.F) {
	f.Add("imgcache_storage_gets_total 1\nimgcache_db_queries_total{op=\"x\"} 2\n")
	f.Fuzz(func(t *testing.T, s string) {
		ParseCounters(strings.NewReader(s)) // never panics
	})
}
