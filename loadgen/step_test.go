package loadgen_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"imgcache/loadgen"
	"imgcache/loadgen/cost"
	"imgcache/loadgen/loadgentest"
	"imgcache/reports/results"
)

func TestLimitsCheck(t *testing.T) {
	ok := results.Step{Offered: 100, Throughput: 99, All: results.Latency{Requests: 1000, Successes: 1000, P99: 20 * time.Millisecond}}
	slow, errs, behind := ok, ok, ok
	slow.All.P99 = 1500 * time.Millisecond
	errs.All.Successes = 980
	behind.Throughput = 80
	for _, tc := range []struct {
		name string
		step results.Step
		want []string // a word of each reason
	}{
		{"keeps up", ok, nil},
		{"p99 over a second", slow, []string{"p99"}},
		{"2% errors", errs, []string{"errors"}},
		{"achieved 80%", behind, []string{"achieved"}},
		{"edge: exactly 90%", results.Step{Offered: 100, Throughput: 90, All: results.Latency{Requests: 10, Successes: 10}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := results.Limits{}.Check(tc.step)
			if len(got) != len(tc.want) {
				t.Fatalf("Check() = %q, want reasons mentioning %q", got, tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("reason %q does not mention %q", got[i], w)
				}
			}
		})
	}
}

type fakeEnv struct {
	fake     *loadgentest.Fake
	backend  *httptest.Server
	memcache *httptest.Server
	ctl      *loadgen.Control
}

func newFakeEnv(t *testing.T, cfg loadgentest.Config) *fakeEnv {
	t.Helper()
	f := loadgentest.New(cfg)
	be := httptest.NewServer(f.Backend())
	mc := httptest.NewServer(f.Memcache())
	t.Cleanup(func() {
		be.CloseClientConnections()
		be.Close()
		mc.Close()
	})
	return &fakeEnv{fake: f, backend: be, memcache: mc, ctl: &loadgen.Control{BackendURL: be.URL, MemcacheURLs: []string{mc.URL}}}
}

func newTestTargeter(t *testing.T, base string, images int, reads float64) (*loadgen.Workload, *loadgen.Targeter) {
	t.Helper()
	ds, err := loadgen.NewDataset(loadgen.DatasetConfig{Images: images, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000})
	if err != nil {
		t.Fatal(err)
	}
	w, err := loadgen.NewWorkload(base, ds, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	pop, _ := loadgen.NewZipf(images, 1.1, 1)
	tr, err := loadgen.NewTargeter(w, loadgen.TargeterConfig{ReadFraction: reads, Reads: pop, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return w, tr
}

func TestRunStep(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{})
	w, tr := newTestTargeter(t, env.backend.URL, 10, 0.8)
	if err := env.ctl.UploadAll(context.Background(), w, 2); err != nil {
		t.Fatal(err)
	}
	vf := filepath.Join(t.TempDir(), "step.bin")
	st, err := loadgen.RunStep(context.Background(), tr.Targeter(), loadgen.StepConfig{
		Name: "t", Rate: 200, Warmup: 250 * time.Millisecond, Duration: time.Second, Control: env.ctl, VegetaFile: vf,
		Cost: cost.New("", nil, []string{env.backend.URL}),
	})
	if err != nil {
		t.Fatal(err)
	}
	// 200/s for 1 s measured: at most about 200 requests, the warm-up's 50 not among them. A busy
	// machine can make vegeta fall behind, so only the upper bounds are firm.
	if st.All.Requests < 50 || st.All.Requests > 220 {
		t.Errorf("measured %d requests, want at most about 200", st.All.Requests)
	}
	if st.Reads.Requests+st.Writes.Requests != st.All.Requests {
		t.Errorf("reads %d + writes %d != all %d", st.Reads.Requests, st.Writes.Requests, st.All.Requests)
	}
	if share := float64(st.Reads.Requests) / float64(st.All.Requests); share < 0.6 || share > 0.95 {
		t.Errorf("reads are %.2f of requests, want about 0.8", share)
	}
	if st.ErrorRate() != 0 || st.Errors != nil {
		t.Errorf("errors %v, rate %g; want none", st.Errors, st.ErrorRate())
	}
	// vegeta measures the rates over the span of the window's requests, which a busy machine
	// bunches, or thins when it falls behind: no more than 15% above the rate asked.
	if st.Throughput <= 0 || st.Throughput > 230 || st.Sent <= 0 || st.Sent > 230 || st.Throughput > 1.01*st.Sent {
		t.Errorf("throughput %.1f/s, sent %.1f/s; want at most about 200, throughput within sent", st.Throughput, st.Sent)
	}
	if st.All.P50 <= 0 || st.All.P50 > st.All.P99 || st.All.P99 > st.All.Max {
		t.Errorf("latencies p50 %v, p99 %v, max %v: not ordered", st.All.P50, st.All.P99, st.All.Max)
	}
	// The fake counts lookups only for reads of stored keys while caching is on.
	h, ok := st.HitRate()
	if !ok || st.CacheGets < int64(st.Reads.Requests)-5 || st.CacheGets > int64(st.Reads.Requests)+5 || h < 0.5 {
		t.Errorf("cache gets %d for %d measured reads, hit rate %.2f (%v); want about one lookup a read, mostly hits",
			st.CacheGets, st.Reads.Requests, h, ok)
	}
	// The cost: loadgen's own CPU, and the backend's counters over the measured window (requests
	// still in flight at either end may fall on either side).
	if _, ok := st.CPUNs[cost.TierLoadgen]; !ok {
		t.Errorf("cpu_ns %v, want loadgen's", st.CPUNs)
	}
	if st.DBQueries == nil || st.StorageGets == nil {
		t.Fatalf("db queries %v, storage gets %v: want both read", st.DBQueries, st.StorageGets)
	}
	if q, g := *st.DBQueries, *st.StorageGets; q <= 0 || q > int64(st.All.Requests)+50 || g < 0 || g > int64(st.Reads.Requests)+50 {
		t.Errorf("db queries %d, storage gets %d for %d requests, %d reads", q, g, st.All.Requests, st.Reads.Requests)
	}
	// Server-side: warm-up and measured requests together, so more than were measured.
	if n := env.fake.Counts().API - 10; n <= int(st.All.Requests) || n > 270 {
		t.Errorf("the server saw %d attack requests for %d measured, want more, and at most about 250", n, st.All.Requests)
	}
	// vegeta's own encoding, decodable by its decoder.
	f, err := os.Open(vf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var n uint64
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break
		}
		if r.Attack != "t" || r.Code != 200 {
			t.Fatalf("vegeta file holds %+v", r)
		}
		n++
	}
	if n != st.All.Requests {
		t.Errorf("vegeta file holds %d results, want %d", n, st.All.Requests)
	}
}

func TestRunStepErrorsByKind(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{FailEvery: 10})
	// No upload: every read is a 404, every tenth request a 500.
	_, tr := newTestTargeter(t, env.backend.URL, 5, 1)
	st, err := loadgen.RunStep(context.Background(), tr.Targeter(), loadgen.StepConfig{Rate: 200, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if st.Errors["http 404"] == 0 || st.Errors["http 500"] == 0 {
		t.Errorf("errors by kind %v, want http 404 and http 500", st.Errors)
	}
	if got := st.Errors["http 404"] + st.Errors["http 500"]; uint64(got) != st.All.Requests {
		t.Errorf("%d errors of %d requests, want all failed", got, st.All.Requests)
	}
	if st.Throughput != 0 || st.CacheStats {
		t.Errorf("throughput %g, cache stats %v; want 0 and none (no Control)", st.Throughput, st.CacheStats)
	}
	if !strings.Contains(st.ErrorSamples["http 500"], "500") {
		t.Errorf("sample of http 500 = %q", st.ErrorSamples["http 500"])
	}
}

func TestRunStepRefused(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close() // nothing listens there now
	_, tr := newTestTargeter(t, url, 3, 1)
	st, err := loadgen.RunStep(context.Background(), tr.Targeter(), loadgen.StepConfig{Rate: 50, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if st.Errors["connection refused"] == 0 || st.ErrorRate() != 1 {
		t.Errorf("errors %v, rate %g; want connection refused for all", st.Errors, st.ErrorRate())
	}
}

func TestRunStepCancel(t *testing.T) {
	env := newFakeEnv(t, loadgentest.Config{})
	_, tr := newTestTargeter(t, env.backend.URL, 3, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := loadgen.RunStep(ctx, tr.Targeter(), loadgen.StepConfig{Rate: 50, Warmup: time.Second, Duration: time.Minute})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RunStep after cancel: error %v, want context.Canceled", err)
	}
}
