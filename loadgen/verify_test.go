package loadgen_test

import (
	"context"
	"flag"
	"net/http/httptest"
	"testing"
	"time"

	"imgcache/loadgen"
	"imgcache/loadgen/loadgentest"
	"imgcache/reports/bench"
	"imgcache/reports/results"
)

var verifyLong = flag.Bool("verify-long", false, "TestRunCountsBadReads: replay 1% of the reads, at 500/s for 20 s")

// TestRunCountsBadReads puts loadgen behind a proxy that replays a key's previous image for some
// of the reads (10%, or 1% with -verify-long) and answers others with another key's image: the
// results must count every image of another key as wrong, and the replays as stale (within 20%: a
// replay can coincide with an upload of that image on its way), and the report's check must fail.
func TestRunCountsBadReads(t *testing.T) {
	// busy: every step counts as run beside heavy load and is tried twice; the first try's faults
	// must be counted all the same.
	for _, tc := range []struct {
		name string
		busy bool
	}{{"quiet", false}, {"every step tried twice", true}} {
		t.Run(tc.name, func(t *testing.T) {
			// A replay is stale beyond doubt when loadgen recorded the newer upload's acknowledgement before
			// it sent the read. Each took at most the request timeout, so a margin of twice the timeout
			// between the acknowledgement and the read at the proxy is proof, however loaded the machine.
			timeout := time.Second
			staleEvery, otherEvery, rate, duration, margin := 10, 25, 30.0, 5*time.Second, 2*timeout+500*time.Millisecond
			if *verifyLong {
				// The long run trusts a short margin: it holds only on a machine that keeps up (latencies
				// well under it).
				staleEvery, otherEvery, rate, duration, margin, timeout = 100, 400, 500, 20*time.Second, 50*time.Millisecond, 0
			}
			env := newFakeEnv(t, loadgentest.Config{})
			proxy, err := loadgentest.NewBroken(env.backend.URL, loadgentest.BrokenConfig{StaleEvery: staleEvery, Margin: margin, OtherEvery: otherEvery})
			if err != nil {
				t.Fatal(err)
			}
			ps := httptest.NewServer(proxy)
			t.Cleanup(ps.Close)
			cfg := loadgen.Config{
				BackendURL: ps.URL, MemcacheURLs: []string{env.memcache.URL},
				Dataset: loadgen.DatasetConfig{Images: 40, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000},
				// Four versions a key: the image replayed is never the one the next upload sends.
				Versions: 4, Mixes: []results.Mix{{Reads: 90, Writes: 10}}, Policies: []string{"LRU"},
				StartRate: rate, RateFactor: 2, MaxRate: rate, Repeat: 1, SearchSteps: -1,
				Warmup: 200 * time.Millisecond, Duration: duration, Timeout: timeout, Logger: quiet,
			}
			if tc.busy {
				cfg.HeavyLoad, cfg.Duration = 1e-9, 2*time.Second
			}
			res, err := loadgen.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range res.Series[0].Steps {
				if tc.busy && !st.Retried {
					t.Errorf("step %.0f/s was not tried twice: this case proves nothing", st.Offered)
				}
				t.Logf("step %.0f/s: sent %.0f, thr %.0f, reads %d, errors %v %v", st.Offered, st.Sent, st.Throughput, st.Reads.Requests, st.Errors, st.ErrorSamples)
			}
			v := res.Verification()
			stale, other := proxy.Injected()
			t.Logf("injected %d stale, %d other keys'; counted %d verified, %d wrong, %d stale", stale, other, v.Verified, v.Wrong, v.Stale)
			if stale < 3 || other == 0 {
				t.Fatalf("injected %d stale and %d other keys' images: too few to judge (a busy machine?)", stale, other)
			}
			// A read that timed out is not verified, and its injected fault not counted: on a busy machine
			// the counts may fall short by the requests that failed.
			failed := 0
			for _, st := range res.Series[0].Steps {
				for _, n := range st.Errors {
					failed += n
				}
			}
			if v.Wrong > int64(other) || v.Wrong < int64(other-failed) {
				t.Errorf("wrong %d, want the %d images of other keys (less up to %d failed requests)", v.Wrong, other, failed)
			}
			if v.Stale > int64(stale) || float64(v.Stale) < 0.8*float64(stale)-float64(failed) {
				t.Errorf("stale %d, want within 20%% of the %d replayed (less up to %d failed requests)", v.Stale, stale, failed)
			}
			if reads := res.Series[0].Steps[0].Reads.Successes; v.Verified < int64(reads) {
				t.Errorf("verified %d, want at least the %d reads answered in the measured window", v.Verified, reads)
			}
			if len(v.BadReads) == 0 {
				t.Error("no offending read listed")
			}
			for _, c := range bench.Checks(res) {
				if c.Name == "every read verified: 0 wrong, 0 stale" && c.Outcome != bench.Fail {
					t.Errorf("check %q: %s (%s), want FAIL", c.Name, c.Outcome, c.Detail)
				}
			}
		})
	}
}
