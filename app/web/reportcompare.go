package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/app/web/runs"
	"imgcache/reports/bench"
	"imgcache/reports/results"
)

// comparePage shows reports/bench's comparison of run B with run A: cell by cell, each metric of both
// with its interval, their difference, and a verdict, regressions marked.
type comparePage struct {
	chrome
	A, B        runSummary
	Same        bool // a run compared with itself
	Threshold   string
	Regressions int
	Rows        []compareRow
	OnlyA       string
	OnlyB       string
	LoadA       string
	LoadB       string
	Busy        bool
	NoIntervals bool
	Other       string // the list, with this pair chosen in its form
}

// compareRow is one metric of one cell in both runs.
type compareRow struct {
	Mix, Policy, Metric string
	A, B, Diff          estimate
	Rel                 string
	Verdict             string
	Class               string // better, worse or regression, for the eye; the text says it too
	Regression          bool
}

// pageReportCompare compares two listed runs: /reports/compare?a=ID&b=ID.
func (s *Server) pageReportCompare(_ context.Context, rc *fasthttp.RequestCtx) error {
	q := rc.QueryArgs()
	a, b := string(q.Peek("a")), string(q.Peek("b"))
	if a == "" || b == "" {
		return errorf(app.ErrInvalid, "Choose two runs to compare: a (the baseline) and b. The Benchmarks page has a form for it.")
	}
	ra, err := s.findRun(a)
	if err != nil {
		return err
	}
	rb, err := s.findRun(b)
	if err != nil {
		return err
	}
	resA, err := runs.Load(ra)
	if err != nil {
		return err
	}
	resB, err := runs.Load(rb)
	if err != nil {
		return err
	}
	cmp := bench.Compare(resA, resB, compareThreshold)
	p := &comparePage{chrome: chrome{Title: "Comparison of two benchmark runs", Active: pathReports},
		A: summarizeRun(ra, resA, bench.Cells(resA)), B: summarizeRun(rb, resB, bench.Cells(resB)),
		Same: ra.ID == rb.ID, Threshold: thresholdText, Regressions: cmp.Regressions,
		OnlyA: cellList(cmp.OnlyA), OnlyB: cellList(cmp.OnlyB),
		LoadA: loadText(cmp.LoadA), LoadB: loadText(cmp.LoadB), Busy: cmp.Busy(), NoIntervals: cmp.NoIntervals,
		Other: pathReports + "?" + url.Values{"a": {ra.ID}, "b": {rb.ID}}.Encode() + "#compare"}
	for _, c := range cmp.Cells {
		for _, d := range c.Deltas {
			p.Rows = append(p.Rows, compareRowOf(c, d))
		}
	}
	s.render(rc, http.StatusOK, "compare", p)
	return nil
}

func compareRowOf(c bench.CellDelta, d bench.Delta) compareRow {
	format := d.Format
	if format == nil {
		format = bench.RateEstimate
	}
	row := compareRow{Mix: c.Mix.String(), Policy: bench.PolicyLabel(c.Policy), Metric: d.Metric,
		A: splitEstimate(format(d.A)), B: splitEstimate(format(d.B)), Diff: splitEstimate(format(d.Diff)), Rel: fmt.Sprintf("%+.1f%%", 100*d.Rel),
		Verdict: d.Verdict, Regression: d.Regression}
	switch {
	case d.Regression:
		row.Verdict, row.Class = "regression", "regression"
	case d.Verdict == bench.Better:
		row.Class = "better"
	case d.Verdict == bench.Worse:
		row.Class = "worse"
	case d.Verdict == bench.Same:
		row.Verdict = "no difference"
	}
	return row
}

// cellList writes cells as "80:20 LRU, 50:50 cache off".
func cellList(cells []results.Cell) string {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = c.Mix.String() + " " + bench.PolicyLabel(c.Policy)
	}
	return strings.Join(parts, ", ")
}

// loadText says how busy the machine was besides the run.
func loadText(l bench.RunLoad) string {
	if !l.OK {
		return "not measured"
	}
	return fmt.Sprintf("%.2f CPUs of other work in the median step; %d of %d steps flagged busy", l.Median, l.Heavy, l.Steps)
}
