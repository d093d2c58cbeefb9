package web_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"imgcache/app"
	"imgcache/app/web/runs"
	"imgcache/reports/bench"
	"imgcache/reports/results"
)

// Benchmark runs for the tests of the /reports pages, written by reports/bench as loadgen writes
// them, and a folder around them with everything a hostile or careless writer could leave there.

// Run IDs of the fixture, as the listing names them.
const (
	runBefore = "2026-12-01-before"
	runAfter  = "2026-12-02-after" // the same cells, 40% slower: regressions
	runBroken = "broken"           // results.json is not JSON
	runFuture = "future"           // results.json of a version this code does not know
)

// secretText is the content of files outside the reports folder: no answer may carry it.
const secretText = "SECRET-outside-the-reports-folder"

// synthResults is a run of two mixes and two policies, three runs a cell, that sweeps and bisects a
// system whose capacity is scale times a fixed one, with a little noise between repeats.
func synthResults(started time.Time, commit string, scale float64) *results.Results {
	mixes := []results.Mix{{Reads: 80, Writes: 20}, {Reads: 50, Writes: 50}}
	policies := []string{results.PolicyLRU, results.PolicyRandom}
	res := &results.Results{Version: results.Version, Started: started, Finished: started.Add(9*time.Minute + 33*time.Second),
		Command: []string{"bin/loadgen", "-repeat", "3"},
		Params: results.Params{Target: "http://127.0.0.1:5000", Managed: true, Workload: "default", Popularity: "zipf(s=1.1)",
			WriteKeys: "same", Seed: 1, Mixes: mixes, Policies: policies, Repeat: 3, CacheFraction: 0.25, CapacityMB: 8,
			StartRate: 200, RateFactor: 2, MaxRate: 12800, Resolution: 0.05, SearchSteps: 4,
			Warmup: 500 * time.Millisecond, Duration: 2 * time.Second, Timeout: 5 * time.Second, MaxWorkers: 512, HeavyLoad: 0.5},
		Dataset: results.DatasetInfo{Images: 200, Seed: 1, PNG: 100, JPEG: 100, Bytes: 26 << 20, StoredBytes: 35 << 20,
			MinBytes: 13700, MedianBytes: 101397, MaxBytes: 660211},
		Machine: results.Machine{CPUModel: "Test CPU", CPUs: 2, OS: "linux", Arch: "amd64", GoVersion: "go1.26.8",
			Commit: commit, Database: "SQLite (embedded)", Hostname: "test"},
	}
	for rep := range 3 {
		for i, mix := range mixes {
			for j, policy := range policies {
				capacity := scale * (1500 - 400*float64(i) - 100*float64(j)) * (1 + 0.01*float64(rep))
				hit := (0.55 - 0.05*float64(j)) * mix.ReadFraction()
				s := results.Series{Mix: mix, Policy: policy, Repeat: rep, CapacityMB: 8, Seed: uint64(1 + rep)}
				step := func(offered float64, phase string) results.Step {
					tp := min(offered, capacity) * 0.99
					reads := uint64(tp * 2 * mix.ReadFraction())
					lat := time.Duration(2e6 + 20e6*offered/capacity)
					st := results.Step{Phase: phase, Offered: offered, Sent: offered, Throughput: tp, Duration: 2 * time.Second,
						All:        results.Latency{Requests: uint64(tp * 2), Successes: uint64(tp * 2), Throughput: tp, P50: lat / 4, P90: lat / 2, P99: lat, Max: 2 * lat},
						Reads:      results.Latency{Requests: reads, Successes: reads, Throughput: tp * mix.ReadFraction(), P50: lat / 5, P90: lat / 3, P99: lat * 4 / 5, Max: lat},
						CacheStats: true, CacheGets: int64(reads), CacheHits: int64(float64(reads) * hit),
						Load: results.Load{OK: true, CPUs: 2, Busy: 1.5, Own: 1.45, Outside: 0.05}}
					if tp < 0.9*offered {
						st.Saturated, st.Reasons = true, []string{"achieved < 90% of offered"}
					}
					return st
				}
				var lo, hi float64
				for rate := 200.0; rate <= 12800; rate *= 2 {
					st := step(rate, results.PhaseSweep)
					s.Steps = append(s.Steps, st)
					if st.Saturated {
						hi = rate
						break
					}
					lo = rate
				}
				for range 4 {
					mid := (lo + hi) / 2
					st := step(mid, results.PhaseSearch)
					s.Steps = append(s.Steps, st)
					if st.Saturated {
						hi = mid
					} else {
						lo = mid
					}
				}
				res.Series = append(res.Series, s)
			}
		}
	}
	return res
}

// reportsFixture is a reports folder for the tests, beside a folder outside it.
type reportsFixture struct {
	Dir     string // the reports folder
	Outside string // a folder beside it, holding secretText
	Before  string // the folder of runBefore, which holds the stray files too
}

// writeFile writes a file of the fixture, failing the test on error.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// symlink makes link point at target, failing the test on error.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// newReportsFixture writes two real runs, a broken one, one of an unknown version, and what must not be
// listed or served: symlinks out of the folder and within it, hidden files and folders, files of
// other types, a sub-folder's files, a file over the size bound, a folder without results.json.
func newReportsFixture(t *testing.T) reportsFixture {
	t.Helper()
	base := t.TempDir()
	f := reportsFixture{Dir: filepath.Join(base, "reports"), Outside: filepath.Join(base, "outside")}
	f.Before = filepath.Join(f.Dir, runBefore)
	day := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	if err := bench.WriteReport(f.Before, synthResults(day, "aaaaaaaaaaaa", 1)); err != nil {
		t.Fatal(err)
	}
	if err := bench.WriteReport(filepath.Join(f.Dir, runAfter), synthResults(day.Add(24*time.Hour), "bbbbbbbbbbbb", 0.6)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(f.Dir, runBroken, bench.ResultsJSON), "{\n  \"version\": 2,\n  \"series\": [\n    {\"mix\": \"80:20\",,}\n  ]\n}\n")
	writeFile(t, filepath.Join(f.Dir, runFuture, bench.ResultsJSON), `{"version": 9}`)
	writeFile(t, filepath.Join(f.Dir, "notes", "readme.txt"), "not a run")
	writeFile(t, filepath.Join(f.Dir, "readme.txt"), "not a run either")

	// Outside the folder: a run and files that symlinks point at.
	writeFile(t, filepath.Join(f.Outside, "secret.png"), secretText)
	writeFile(t, filepath.Join(f.Outside, "secret.json"), secretText)
	if err := bench.WriteReport(filepath.Join(f.Outside, "run"), synthResults(day, "cccccccccccc", 1)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(f.Outside, "run", "secret.json"), secretText)
	symlink(t, filepath.Join(f.Outside, "run"), filepath.Join(f.Dir, "linked-run"))
	if err := bench.WriteReport(filepath.Join(f.Dir, ".hidden-run"), synthResults(day, "dddddddddddd", 1)); err != nil {
		t.Fatal(err)
	}

	// In a run's folder.
	symlink(t, filepath.Join(f.Outside, "secret.png"), filepath.Join(f.Before, "escape.png"))
	symlink(t, "../../outside/secret.json", filepath.Join(f.Before, "escape-relative.json"))
	symlink(t, bench.ResultsJSON, filepath.Join(f.Before, "alias.json"))
	writeFile(t, filepath.Join(f.Before, ".secret.json"), secretText)
	writeFile(t, filepath.Join(f.Before, "notes.txt"), secretText)
	writeFile(t, filepath.Join(f.Before, "run.sh"), secretText)
	writeFile(t, filepath.Join(f.Before, "data.json.bak"), secretText)
	writeFile(t, filepath.Join(f.Before, bench.VegetaDir, "step-1.json"), secretText)
	writeFile(t, filepath.Join(f.Before, "notes.md"), "# Notes\n\nTaken on a quiet machine.\n")
	huge, err := os.Create(filepath.Join(f.Before, "huge.png"))
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: one byte over the bound costs no disk.
	if err := huge.Truncate(runs.MaxFile + 1); err != nil {
		t.Fatal(err)
	}
	huge.Close()
	return f
}

// reportsConfig points a backend at the fixture's folder, with no sample, or the repository's.
func reportsConfig(dir, sample string) func(*app.Config) {
	return func(c *app.Config) {
		c.Reports = dir
		c.ReportSample = sample
	}
}

// repoSample is the repository's committed sample, from app/ where the tests run.
var repoSample = filepath.Join("..", "..", "reports", "sample")
