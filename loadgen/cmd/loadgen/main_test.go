package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"imgcache/loadgen/loadgentest"
	"imgcache/loadgen/resize"
	"imgcache/reports/results"
)

func TestMain(m *testing.M) {
	loadgentest.MaybeServe()
	os.Exit(m.Run())
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), append([]string{"loadgen"}, args...), &o, &e)
	return code, o.String(), e.String()
}

// tiny keeps a bench run to a few seconds.
func tiny() []string {
	return []string{"-images", "6", "-mixes", "20:80,80:20", "-start-rate", "20", "-rate-factor", "2", "-max-rate", "40",
		"-warmup", "100ms", "-duration", "300ms", "-log-level", "warn", "-repeat", "1", "-heavy-load", "64"}
}

// checkReport checks the report's files: graphs a mix (latency, throughput and, with curves,
// miss-ratio), each an 800x500 PNG.
func checkReport(t *testing.T, out string, mixes, graphsAMix int) {
	t.Helper()
	for _, f := range []string{"results.json", "results.csv", "index.html", "summary.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("report lacks %s: %v", f, err)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "*.png"))
	if len(pngs) != graphsAMix*mixes {
		t.Errorf("%d PNGs, want %d", len(pngs), graphsAMix*mixes)
	}
	for _, p := range pngs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != 800 || cfg.Height != 500 {
			t.Errorf("%s: %dx%d %v", p, cfg.Width, cfg.Height, err)
		}
	}
}

func TestBenchAgainstTarget(t *testing.T) {
	f := loadgentest.New(loadgentest.Config{})
	be, mc := httptest.NewServer(f.Backend()), httptest.NewServer(f.Memcache())
	defer be.Close()
	defer mc.Close()
	out := t.TempDir()
	code, stdout, stderr := runCmd(t, append([]string{"-target", be.URL, "-memcache", mc.URL, "-out", out}, tiny()...)...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	checkReport(t, out, 2, 3)
	res, err := results.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 6 || res.Params.Managed || res.Dataset.Images != 6 {
		t.Errorf("%d series, managed %v, %d images; want 6, false, 6", len(res.Series), res.Params.Managed, res.Dataset.Images)
	}
	// A step that saturates on a busy machine ends its series early, so count the steps run.
	steps := 0
	for _, s := range res.Series {
		steps += len(s.Steps)
	}
	bins, _ := filepath.Glob(filepath.Join(out, "vegeta", "*.bin"))
	if len(bins) != steps || steps < len(res.Series) {
		t.Errorf("%d vegeta result files for %d steps in %d series, want one a step", len(bins), steps, len(res.Series))
	}
	if !strings.Contains(stdout, "series 6/6") || !strings.Contains(stdout, "report: ") || !strings.Contains(stdout, "miss-ratio curves") {
		t.Errorf("progress lacks the last series, the curves or the report line:\n%s", stdout)
	}
	if want := append([]string{"loadgen", "-target"}, be.URL); len(res.Command) < 3 || !slices.Equal(res.Command[:3], want) {
		t.Errorf("command recorded %q, want it to start %q", res.Command, want)
	}
	if v := res.Verification(); v.Verified == 0 || v.Unverified() != 0 ||
		!strings.Contains(stdout, fmt.Sprintf("verified: %d reads, 0 wrong, 0 stale", v.Verified)) {
		t.Errorf("verified %+v; stdout:\n%s", v, stdout)
	}
}

// TestBenchFailsOnWrongReads: a deployment that answers reads with other keys' images fails the run.
func TestBenchFailsOnWrongReads(t *testing.T) {
	f := loadgentest.New(loadgentest.Config{})
	be, mc := httptest.NewServer(f.Backend()), httptest.NewServer(f.Memcache())
	defer be.Close()
	defer mc.Close()
	broken, err := loadgentest.NewBroken(be.URL, loadgentest.BrokenConfig{OtherEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	px := httptest.NewServer(broken)
	defer px.Close()
	out := t.TempDir()
	code, stdout, stderr := runCmd(t, append([]string{"-target", px.URL, "-memcache", mc.URL, "-out", out, "-policies", "LRU"}, tiny()...)...)
	_, other := broken.Injected()
	if code != 1 || other == 0 || !strings.Contains(stderr, fmt.Sprintf("%d wrong and 0 stale reads", other)) ||
		!strings.Contains(stdout, "wrong read of ") {
		t.Errorf("exit %d after %d images of other keys\nstdout:\n%s\nstderr:\n%s", code, other, stdout, stderr)
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil || !strings.Contains(string(summary), "| every read verified: 0 wrong, 0 stale | FAIL |") {
		t.Errorf("summary lacks the failed check (%v):\n%s", err, summary)
	}
	// Without verification the same run passes: the failure above is the check's.
	if code, _, stderr := runCmd(t, append([]string{"-target", px.URL, "-memcache", mc.URL, "-out", t.TempDir(), "-policies", "LRU", "-no-verify"}, tiny()...)...); code != 0 {
		t.Errorf("-no-verify: exit %d\n%s", code, stderr)
	}
}

// The default mode starts both services itself; here the test binary plays them.
func TestBenchManaged(t *testing.T) {
	t.Setenv(loadgentest.ProcessEnv, "1")
	out := t.TempDir()
	args := append([]string{"-backend-bin", os.Args[0], "-memcache-bin", os.Args[0], "-out", out, "-mixes", "50:50", "-policies", "LRU"}, tiny()[4:]...)
	code, stdout, stderr := runCmd(t, append(args, "-images", "4")...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// Latency, throughput, miss-ratio curves and, since loadgen measured its services' CPU, cost.
	checkReport(t, out, 1, 4)
	if _, err := os.Stat(filepath.Join(out, "cost-50-50.png")); err != nil {
		t.Error(err)
	}
	res, err := results.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st := res.Series[0].Steps[0]; runtime.GOOS == "linux" && (st.CPUNs["backend"] < 0 || st.CPUNs["memcache"] < 0 || len(st.CPUNs) < 3) {
		t.Errorf("cpu_ns %v, want the backend's, the memcache's and loadgen's", st.CPUNs)
	}
	if !res.Params.Managed || !strings.HasPrefix(res.Machine.Database, "SQLite") {
		t.Errorf("managed %v, database %q; want a managed run on SQLite", res.Params.Managed, res.Machine.Database)
	}
	// The services' CPU time counts as loadgen's own: the started processes are sampled too.
	for _, st := range res.Series[0].Steps {
		if runtime.GOOS == "linux" && (!st.Load.OK || st.Load.Own <= 0) {
			t.Errorf("step at %g/s: load %+v, want it measured, with work of our own", st.Offered, st.Load)
		}
	}
}

func TestReportCommand(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCmd(t, "report", "-in", "../../../reports/bench/testdata/results.json", "-out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, filepath.Join(out, "index.html")) {
		t.Errorf("stdout %q does not name the report", stdout)
	}
	checkReport(t, out, 2, 3)
}

// compare exits 0 when nothing got worse beyond the threshold and 3 when something did, so that
// CI can use it; either way it prints Markdown and writes both files.
func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	a, err := results.ReadFile("../../../reports/bench/testdata/results.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := results.ReadFile("../../../reports/bench/testdata/results.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Series { // B: every step of LRU at 80:20 serves a tenth of the throughput
		if b.Series[i].Policy == "LRU" && b.Series[i].Mix.Reads == 80 {
			for j := range b.Series[i].Steps {
				b.Series[i].Steps[j].Throughput /= 10
			}
		}
	}
	pa, pb := filepath.Join(dir, "a", "results.json"), filepath.Join(dir, "b", "results.json")
	for p, r := range map[string]*results.Results{pa: a, pb: b} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteFile(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
	}{
		{"same run", []string{"compare", pa, pa}, 0, "**0 regression(s)**"},
		{"a tenth of the throughput", []string{"compare", pa, pb}, 3, "**REGRESSION**"},
		{"within a lenient threshold", []string{"compare", "-threshold", "0.95", pa, pb}, 0, "**0 regression(s)**"},
		{"one file", []string{"compare", pa}, 2, ""},
		{"missing file", []string{"compare", pa, filepath.Join(dir, "none.json")}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) {
				t.Errorf("exit %d (stderr %q), stdout lacking %q:\n%s; want exit %d", code, stderr, tc.stdout, stdout, tc.code)
			}
		})
	}
	for _, f := range []string{"compare.md", "compare.html"} {
		if _, err := os.Stat(filepath.Join(dir, "b", f)); err != nil {
			t.Errorf("compare did not write %s beside B: %v", f, err)
		}
	}
}

// Workload presets and trace replay are flags of their own.
func TestWorkloadFlags(t *testing.T) {
	f := loadgentest.New(loadgentest.Config{})
	be, mc := httptest.NewServer(f.Backend()), httptest.NewServer(f.Memcache())
	defer be.Close()
	defer mc.Close()
	for _, tc := range []struct {
		name  string
		args  []string
		mixes []string
	}{
		{"ycsb", []string{"-workload", "ycsb"}, []string{"50:50", "95:5", "100:0"}},
		{"trace", []string{"-trace", "../../testdata/trace-small.csv"}, []string{"90:10"}},
		{"new-key writes", []string{"-mixes", "50:50", "-write-keys", "new"}, []string{"50:50"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"-target", be.URL, "-memcache", mc.URL, "-out", out, "-policies", "LRU"}, tc.args...)
			args = append(args, "-start-rate", "20", "-max-rate", "20", "-warmup", "50ms", "-duration", "200ms", "-log-level", "warn", "-repeat", "1", "-heavy-load", "64")
			code, stdout, stderr := runCmd(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			res, err := results.ReadFile(filepath.Join(out, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range res.Mixes() {
				got = append(got, m.String())
			}
			if !slices.Equal(got, tc.mixes) {
				t.Errorf("mixes %q, want %q", got, tc.mixes)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"-frobnicate"}, 2, "frobnicate"},
		{"bad mix", []string{"-target", "http://127.0.0.1:1", "-mixes", "80/20", "-out", "OUT"}, 1, "mix"},
		{"preset and mixes", []string{"-target", "http://127.0.0.1:1", "-mixes", "80:20", "-workload", "ycsb-a", "-out", "OUT"}, 1, "sets the mixes"},
		{"unknown preset", []string{"-target", "http://127.0.0.1:1", "-workload", "tpcc", "-out", "OUT"}, 1, "workload"},
		{"missing trace", []string{"-target", "http://127.0.0.1:1", "-trace", "/nonexistent.csv", "-out", "OUT"}, 1, "trace"},
		{"missing results", []string{"report", "-in", "/nonexistent/results.json"}, 1, "read results"},
		{"missing binaries", []string{"-backend-bin", "/nonexistent/backend", "-out", "OUT"}, 1, "make bench"},
		{"nine nodes", []string{"-nodes", "9", "-out", "OUT"}, 1, "memcache nodes"},
		{"unknown storage", []string{"-storage", "tape", "-out", "OUT"}, 1, "storage"},
		{"s3 latency without s3", []string{"-s3-latency", "20ms", "-out", "OUT"}, 1, "without S3 storage"},
		{"missing versitygw", []string{"-storage", "s3", "-versitygw-bin", "/nonexistent/versitygw", "-backend-bin", os.Args[0], "-memcache-bin", os.Args[0], "-out", "OUT"}, 1, "install it with go install"},
		{"resize: bad time", []string{"resize", "-at", "soon", "-out", "OUT"}, 2, "-at"},
		{"resize: time past the run", []string{"resize", "-at", "50s", "-duration", "40s", "-out", "OUT"}, 1, "within the 40s run"},
		{"resize: no cache", []string{"resize", "-policy", "off", "-out", "OUT"}, 1, "needs a cache"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			for i, a := range args {
				if a == "OUT" {
					args[i] = t.TempDir()
				}
			}
			code, _, stderr := runCmd(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
}

// loadgen resize end to end on the real services (played by the test binary), kept short: two
// active nodes and a standby, one activated at 3 s and stood by at 6 s, no request failing.
func TestResizeCommand(t *testing.T) {
	t.Setenv(loadgentest.ProcessEnv, "1")
	t.Setenv(loadgentest.RealEnv, "1")
	out := t.TempDir()
	// A request may take long on a busy machine under the race detector; it must not fail for it:
	// the test is about the resizes, and no answer of a healthy deployment is a failure. The rate is
	// low for the same reason: at 100/s a machine at load 30 saturates and requests wait a minute.
	code, stdout, stderr := runCmd(t, "resize", "-backend-bin", os.Args[0], "-memcache-bin", os.Args[0], "-out", out,
		"-images", "20", "-rate", "50", "-duration", "8s", "-at", "3s,6s", "-window", "3s", "-timeout", "60s", "-log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, resize.JSON))
	if err != nil {
		t.Fatal(err)
	}
	var res resize.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	type step struct {
		action   string
		from, to int
	}
	var got []step
	for _, ev := range res.Events {
		if ev.Error != "" {
			t.Errorf("resize at %v: %s", ev.At, ev.Error)
		}
		got = append(got, step{ev.Action, ev.From, ev.To})
	}
	if want := []step{{resize.ActionActivate, 2, 3}, {resize.ActionStandby, 3, 2}}; !slices.Equal(got, want) {
		t.Errorf("resizes %+v, want %+v", got, want)
	}
	if len(res.Effects) != 2 || res.Effects[0].BeforeN == 0 {
		t.Errorf("effects %+v, want two with a mean before each", res.Effects)
	}
	// One window a second on a quiet machine; fewer, longer ones when the loop is late (the race
	// detector beside other tests), and then the run lasts longer: the resizes are never skipped.
	// Either way the windows lie back to back over the whole run, with one before the first resize,
	// one between the two and one after the last.
	for i, w := range res.Windows {
		if i > 0 && w.Start != res.Windows[i-1].End || w.End <= w.Start {
			t.Errorf("window %d is %v to %v after one ending at %v: want them back to back", i, w.Start, w.End, res.Windows[i-1].End)
		}
	}
	if n := len(res.Windows); n < 3 || res.Windows[n-1].End < 7500*time.Millisecond || res.Duration != 0 && res.Windows[n-1].End > res.Duration {
		t.Errorf("%d windows ending at %v in a run of %v planned for 8 s, want at least 3 covering it", n, res.Windows[max(n-1, 0)].End, res.Duration)
	}
	var actives []int // the active nodes of each stretch of windows
	for _, w := range res.Windows {
		if len(actives) == 0 || actives[len(actives)-1] != w.Active {
			actives = append(actives, w.Active)
		}
	}
	if want := []int{2, 3, 2}; !slices.Equal(actives, want) {
		t.Errorf("active nodes by stretch of windows %v, want %v", actives, want)
	}
	if res.Step.All.Requests < 350 || res.Failed() != 0 {
		t.Errorf("%d requests, %d failed; want at least about 400, none failed", res.Step.All.Requests, res.Failed())
	}
	md, err := os.ReadFile(filepath.Join(out, resize.Markdown))
	if err != nil || !strings.Contains(string(md), "| activate node ") || !strings.Contains(stdout, "| standby node ") {
		t.Errorf("resize.md (%v) or stdout lacks the resizes:\n%s\n%s", err, md, stdout)
	}
}
