package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"

	"imgcache/app/web/runs"

	"github.com/valyala/fasthttp"
)

// compareThreshold is the relative change beyond which a worse metric is a regression: loadgen
// compare's default -threshold, so that the page and the command agree.
const compareThreshold = 0.10

// thresholdText is compareThreshold as the pages say it.
var thresholdText = strconv.FormatFloat(100*compareThreshold, 'f', -1, 64) + "%"

// runChoice is a run offered in the comparison form.
type runChoice struct{ ID, Label string }

// reportsPage lists the runs and offers to compare two.
type reportsPage struct {
	chrome
	Folder    string // the reports folder as configured
	Missing   bool   // it does not exist
	Truncated bool   // it holds more than a listing reads
	Runs      []runSummary
	Samples   []runSummary // the committed sample, when it was found
	Choices   []runChoice
	A, B      string // the runs the form offers to compare
	Threshold string
}

// pageReports lists the benchmark runs, newest first, then the sample. ?a=ID&b=ID preselects the
// comparison form (the comparison page links back so).
func (s *Server) pageReports(_ context.Context, rc *fasthttp.RequestCtx) error {
	p := &reportsPage{chrome: chrome{Title: "Benchmarks", Active: pathReports}, Folder: s.cfg.Reports,
		Threshold: thresholdText}
	l, err := runs.List(s.cfg.Reports, s.sampleDirs)
	if err != nil {
		s.log.Warn("cannot list the reports folder", "folder", s.cfg.Reports, "err", err)
		p.Warning = "The reports folder cannot be read; the server log says why."
	}
	p.Missing, p.Truncated = l.Missing, l.Truncated
	s.runSums.keepOnly(l.Runs)
	for _, r := range l.Runs {
		sum := s.summary(r)
		if r.Sample {
			p.Samples = append(p.Samples, sum)
		} else {
			p.Runs = append(p.Runs, sum)
		}
	}
	// Newest first; runs without a date (unreadable) last.
	slices.SortStableFunc(p.Runs, func(a, b runSummary) int {
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for _, sum := range append(p.Runs[:len(p.Runs):len(p.Runs)], p.Samples...) {
		if sum.Problem == "" {
			label := sum.ID + " · " + sum.Date
			if sum.Sample {
				label += " (committed sample)"
			}
			p.Choices = append(p.Choices, runChoice{ID: sum.ID, Label: label})
		}
	}
	// By default the newest run against the one before it: what changed since.
	if n := len(p.Choices); n > 0 {
		p.B, p.A = p.Choices[0].ID, p.Choices[min(1, n-1)].ID
	}
	q := rc.QueryArgs()
	for _, c := range p.Choices {
		if string(q.Peek("a")) == c.ID {
			p.A = c.ID
		}
		if string(q.Peek("b")) == c.ID {
			p.B = c.ID
		}
	}
	s.render(rc, http.StatusOK, "reports", p)
	return nil
}
