package main

import (
	"bytes"
	"context"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imgcache/loadgen"
	"imgcache/loadgen/loadgentest"
)

func TestMain(m *testing.M) {
	loadgentest.MaybeServe()
	os.Exit(m.Run())
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// tiny keeps a bench run to a few seconds.
var tiny = []string{"-images", "6", "-mixes", "20:80,80:20", "-start-rate", "20", "-rate-factor", "2", "-max-rate", "40",
	"-warmup", "100ms", "-duration", "300ms", "-log-level", "warn"}

func checkReport(t *testing.T, out string, mixes int) {
	t.Helper()
	for _, f := range []string{"results.json", "results.csv", "index.html", "summary.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("report lacks %s: %v", f, err)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "*.png"))
	if len(pngs) != 2*mixes {
		t.Errorf("%d PNGs, want %d", len(pngs), 2*mixes)
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
	code, stdout, stderr := runCmd(t, append([]string{"-target", be.URL, "-memcache", mc.URL, "-out", out}, tiny...)...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	checkReport(t, out, 2)
	res, err := loadgen.ReadResults(filepath.Join(out, "results.json"))
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
	if !strings.Contains(stdout, "series 6/6") || !strings.Contains(stdout, "report: ") {
		t.Errorf("progress lacks the last series or the report line:\n%s", stdout)
	}
}

// The default mode starts both services itself; here the test binary plays them.
func TestBenchManaged(t *testing.T) {
	t.Setenv(loadgentest.ProcessEnv, "1")
	out := t.TempDir()
	args := append([]string{"-backend-bin", os.Args[0], "-memcache-bin", os.Args[0], "-out", out, "-mixes", "50:50", "-policies", "LRU"}, tiny[4:]...)
	code, stdout, stderr := runCmd(t, append(args, "-images", "4")...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	checkReport(t, out, 1)
	res, err := loadgen.ReadResults(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Params.Managed || !strings.HasPrefix(res.Machine.Database, "SQLite") {
		t.Errorf("managed %v, database %q; want a managed run on SQLite", res.Params.Managed, res.Machine.Database)
	}
}

func TestReportCommand(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCmd(t, "report", "-in", "../../../reports/bench/testdata/bench_results.json", "-out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, filepath.Join(out, "index.html")) {
		t.Errorf("stdout %q does not name the report", stdout)
	}
	checkReport(t, out, 3)
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
		{"missing results", []string{"report", "-in", "/nonexistent/results.json"}, 1, "read results"},
		{"missing binaries", []string{"-backend-bin", "/nonexistent/backend", "-out", "OUT"}, 1, "make bench"},
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
