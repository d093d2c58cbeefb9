package bench

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"imgcache/reports/results"
)

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, firstDiff(got, want))
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got:  %s\n want: %s", i+1, a, b)
		}
	}
	return ""
}

func TestWriteReport(t *testing.T) {
	res := fixture(t, "results.json")
	dir := t.TempDir()
	if err := WriteReport(dir, res); err != nil {
		t.Fatal(err)
	}
	graphs := Graphs(res)
	for _, g := range graphs {
		f, err := os.Open(filepath.Join(dir, g.File))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != 800 || cfg.Height != 500 {
			t.Errorf("%s: %dx%d, %v; want an 800x500 PNG", g.File, cfg.Width, cfg.Height, err)
		}
	}
	back, err := results.ReadFile(filepath.Join(dir, ResultsJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, res) {
		t.Error("results.json read back differs from the results written")
	}

	csvBytes, _ := os.ReadFile(filepath.Join(dir, ResultsCSV))
	rows, err := csv.NewReader(bytes.NewReader(csvBytes)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	for _, s := range res.Series {
		steps += len(s.Steps)
	}
	if len(rows) != steps+1 {
		t.Errorf("results.csv has %d rows, want a header and %d steps", len(rows), steps)
	}
	golden(t, "golden_results.csv", csvBytes)

	html, _ := os.ReadFile(filepath.Join(dir, IndexHTML))
	for _, g := range graphs {
		if !bytes.Contains(html, []byte(`<img src="`+g.File+`"`)) {
			t.Errorf("index.html does not show %s", g.File)
		}
	}
	for _, s := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"height: auto", // graphs keep their aspect when the page is narrower than they are
		"Reproduce this run", "bin/loadgen", "holds the median with 75% coverage", "Belady",
	} {
		if !bytes.Contains(html, []byte(s)) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	// Links only to files that exist: the fixture's folder has no vegeta/.
	checkLinks(t, dir, html)
	if bytes.Contains(html, []byte(`href="vegeta/"`)) {
		t.Error("index.html links vegeta/, which the folder lacks")
	}
	golden(t, "golden_index.html", html)
	md, _ := os.ReadFile(filepath.Join(dir, SummaryMD))
	golden(t, "golden_summary.md", md)

	// With vegeta's files there, the page links them.
	if err := os.Mkdir(filepath.Join(dir, VegetaDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(dir, res); err != nil {
		t.Fatal(err)
	}
	html, _ = os.ReadFile(filepath.Join(dir, IndexHTML))
	if !bytes.Contains(html, []byte(`href="vegeta/"`)) {
		t.Error("index.html does not link vegeta/, which the folder has")
	}
	checkLinks(t, dir, html)
}

// checkLinks fails for every href or src of page that names no file of dir.
func checkLinks(t *testing.T, dir string, page []byte) {
	t.Helper()
	for _, m := range regexp.MustCompile(`(?:href|src)="([^"#:]+)"`).FindAllSubmatch(page, -1) {
		if _, err := os.Stat(filepath.Join(dir, string(m[1]))); err != nil {
			t.Errorf("the page links %q, which does not exist", m[1])
		}
	}
}

// A version-1 results.json (one run a cell, no search, no curves) still renders.
func TestWriteReportVersion1(t *testing.T) {
	res := fixture(t, "results_v1.json")
	if res.Version != 1 || len(res.MRC) != 0 {
		t.Fatalf("fixture version %d with %d curves, want an old run", res.Version, len(res.MRC))
	}
	dir := t.TempDir()
	if err := WriteReport(dir, res); err != nil {
		t.Fatal(err)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(pngs) != 6 {
		t.Errorf("%d PNGs, want 6 (no curves in version 1)", len(pngs))
	}
	cells := Cells(res)
	if len(cells) != 9 || cells[0].Runs != 1 || cells[0].SearchText() != "400–800" {
		t.Errorf("%d cells, first %+v: want 9, one run each, the sweep's interval", len(cells), cells[0])
	}
	html, _ := os.ReadFile(filepath.Join(dir, IndexHTML))
	checkLinks(t, dir, html)
	if !bytes.Contains(html, []byte("One run a cell")) {
		t.Error("a one-run report does not say that it has no intervals")
	}
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cmd    []string
		commit string
		want   string
	}{
		{"clean tree", []string{"bin/loadgen", "-repeat", "3"}, "0123456789ab", "git checkout 0123456789ab && make build && bin/loadgen -repeat 3"},
		{"dirty tree", []string{"bin/loadgen", "-quick"}, "0123456789ab+dirty", "bin/loadgen -quick"},
		{"quoting", []string{"bin/loadgen", "-backend-args", "-log-level debug", "-out", "it's"}, "", `bin/loadgen -backend-args '-log-level debug' -out 'it'\''s'`},
		{"none", nil, "x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &results.Results{Command: tc.cmd, Machine: results.Machine{Commit: tc.commit}}
			if got := Command(res); got != tc.want {
				t.Errorf("Command = %q, want %q", got, tc.want)
			}
		})
	}
}

// The parameters say what served the run: image store, backends, memcache nodes, and the pool's
// capacity; results written before these were recorded get no such row.
func TestReportServicesParams(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params results.Params
		want   []string // in the services row, or in the cache row
		absent bool     // no services row
	}{
		{"older results", results.Params{}, nil, true},
		{"one of each, folder", results.Params{Storage: "file", Backends: 1, Nodes: 1}, []string{"images in a local folder", "1 backend", "1 memcache node"}, false},
		{"s3 started by loadgen", results.Params{Managed: true, Storage: "s3", Backends: 2, Nodes: 4, CapacityMB: 8},
			[]string{"images in S3 (versitygw on loopback, started by loadgen)", "2 backends, the requests spread over them in turn", "a pool of 4 memcache nodes", "on each of the 4 memcache nodes: 32 MB in the pool"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := synth(results.Mix{Reads: 80, Writes: 20}, map[string][]synthRun{results.PolicyLRU: {{hit: 0.5, readP50: time.Millisecond, satAt: 800}}})
			pr := tc.params
			pr.Repeat, pr.Resolution, pr.HeavyLoad = 1, 0.05, 0.5
			res.Params = pr
			p := newPage(res, nil)
			var rows []string
			hasServices := false
			for _, kv := range p.Params {
				rows = append(rows, kv[0]+": "+kv[1])
				hasServices = hasServices || kv[0] == "services"
			}
			all := strings.Join(rows, "\n")
			if hasServices == tc.absent {
				t.Errorf("services row present = %v, want %v:\n%s", hasServices, !tc.absent, all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("parameters lack %q:\n%s", w, all)
				}
			}
		})
	}
}
