package web

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"imgcache/app"
	"imgcache/app/web/runs"
	"imgcache/reports/bench"
	"imgcache/reports/results"
)

// runSummary is what the pages show of a run in a line or two: where and when it ran, what it
// measured, and its headline figures.
type runSummary struct {
	ID, URL, Label string
	Sample         bool
	// Problem says why results.json cannot be read; the fields below are empty then.
	Problem  string
	Started  time.Time
	Date     string // "2026-11-30 17:21 UTC"
	Duration string
	Machine  string
	Commit   string
	Database string
	Mixes    string
	Policies string
	Repeats  int
	Quick    bool
	Ended    string // why the run ended early, if it did
	Matrix   cellMatrix
}

// cellMatrix is the headline figures of a run: a row a mix, a column a policy.
type cellMatrix struct {
	Policies []string
	Rows     []matrixRow
}

type matrixRow struct {
	Mix   string
	Cells []matrixCell
}

// matrixCell is one cell's sustained throughput and hit rate, medians of its runs.
type matrixCell struct {
	Has                bool // the run has this mix and policy
	Sustained, HitRate string
}

// runDate writes a run's start as the pages do.
func runDate(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// summarizeRun sums up a decoded run; cells are bench.Cells(res).
func summarizeRun(r runs.Run, res *results.Results, cells []bench.Cell) runSummary {
	sum := runSummary{Started: res.Started, Date: runDate(res.Started), Repeats: res.Params.Repeats(),
		Quick: res.Params.Quick, Ended: res.Error, Commit: res.Machine.Commit, Database: res.Machine.Database}
	sum.setRun(r)
	if !res.Started.IsZero() && res.Finished.After(res.Started) {
		sum.Duration = res.Finished.Sub(res.Started).Round(time.Second).String()
	}
	m := res.Machine
	var machine []string
	if m.CPUModel != "" {
		machine = append(machine, m.CPUModel)
	}
	if m.CPUs > 0 {
		machine = append(machine, strconv.Itoa(m.CPUs)+" CPUs")
	}
	if m.OS != "" {
		machine = append(machine, m.OS+"/"+m.Arch)
	}
	if m.GoVersion != "" {
		machine = append(machine, m.GoVersion)
	}
	sum.Machine = strings.Join(machine, ", ")

	var mixes []string
	for _, mix := range res.Mixes() {
		mixes = append(mixes, mix.String())
	}
	sum.Mixes = strings.Join(mixes, ", ")
	var policies []string
	for _, c := range cells {
		if label := bench.PolicyLabel(c.Policy); !slices.Contains(policies, label) {
			policies = append(policies, label)
		}
	}
	sum.Policies = strings.Join(policies, ", ")

	sum.Matrix.Policies = policies
	for _, mix := range res.Mixes() {
		row := matrixRow{Mix: mix.String(), Cells: make([]matrixCell, len(policies))}
		for _, c := range cells {
			if c.Mix != mix {
				continue
			}
			i := slices.Index(policies, bench.PolicyLabel(c.Policy))
			row.Cells[i] = matrixCell{Has: true, Sustained: rateText(c), HitRate: hitText(c)}
		}
		sum.Matrix.Rows = append(sum.Matrix.Rows, row)
	}
	return sum
}

// setRun sets what the summary takes from the listing rather than the file.
func (sum *runSummary) setRun(r runs.Run) {
	sum.ID, sum.URL, sum.Label, sum.Sample = r.ID, runURL(r.ID), r.Label, r.Sample
}

// rateText is a cell's sustained throughput, or why it has none.
func rateText(c bench.Cell) string {
	switch {
	case c.Sustained.N == 0:
		return "no rate served"
	case c.NotReached == c.Runs:
		return "≥ " + strconv.FormatFloat(c.Sustained.Center, 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(c.Sustained.Center, 'f', 0, 64) + "/s"
}

// hitText is a cell's hit rate, or nothing when the cache was off or not asked.
func hitText(c bench.Cell) string {
	if c.HitRate.N == 0 || c.Policy == results.PolicyOff {
		return ""
	}
	return bench.Pct(c.HitRate.Center) + " hits"
}

// runSummaries keeps the summary of each run's results.json while the file stays the same (size and
// modification time), so that listing many runs does not decode every file on every visit.
type runSummaries struct {
	mu sync.Mutex
	m  map[string]cachedSummary
}

type cachedSummary struct {
	size int64
	mod  time.Time
	sum  runSummary
}

// summary returns the summary of run r, from the cache while its results.json is unchanged. A file
// that cannot be decoded gives a summary with only its Problem.
func (s *Server) summary(r runs.Run) runSummary {
	root, err := r.Open()
	if err != nil {
		return s.unreadable(r, err)
	}
	fi, err := root.Stat(bench.ResultsJSON)
	root.Close()
	if err != nil {
		return s.unreadable(r, err)
	}
	c := &s.runSums
	c.mu.Lock()
	got, ok := c.m[r.Key()]
	c.mu.Unlock()
	if ok && got.size == fi.Size() && got.mod.Equal(fi.ModTime()) {
		got.sum.setRun(r)
		return got.sum
	}
	var sum runSummary
	res, err := runs.Load(r)
	var e *app.Error
	switch {
	case errors.As(err, &e) && errors.Is(err, app.ErrUnprocessable):
		sum.Problem = e.Message
	case err != nil:
		return s.unreadable(r, err)
	default:
		sum = summarizeRun(r, res, bench.Cells(res))
	}
	sum.setRun(r)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedSummary{}
	}
	c.m[r.Key()] = cachedSummary{size: fi.Size(), mod: fi.ModTime(), sum: sum}
	c.mu.Unlock()
	return sum
}

// unreadable is the summary of a run whose folder or file cannot be read at all: the cause, which
// names server paths, goes to the log.
func (s *Server) unreadable(r runs.Run, err error) runSummary {
	s.log.Warn("cannot read a benchmark run", "run", r.Label, "err", err)
	sum := runSummary{Problem: fmt.Sprintf("The results.json of run %q cannot be read; the server log says why.", r.ID)}
	sum.setRun(r)
	return sum
}

// keepOnly drops the cached summaries of runs no longer listed, so the cache stays as small as the
// listing.
func (c *runSummaries) keepOnly(runs []runs.Run) {
	keep := map[string]bool{}
	for _, r := range runs {
		keep[r.Key()] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if !keep[k] {
			delete(c.m, k)
		}
	}
}
