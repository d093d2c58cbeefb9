package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/app/web/runs"
	"imgcache/reports/bench"
	"imgcache/reports/results"
)

// runPage shows one run: its settings and machine, its cells with their intervals, the checks the
// report makes, its graphs and its files. It is our own page, rendered from results.json under our
// CSP; the run's own index.html is one of its files, served sandboxed.
type runPage struct {
	chrome
	Run     runSummary
	Facts   []figure
	Command string
	Cells   []runCell
	Checks  []runCheck
	Graphs  []graphSection
	Files   []runFileLink
	Decoded bool // results.json was read: the sections above are there
}

// runCell is a row of the run's table of cells.
type runCell struct {
	Mix, Policy                    string
	Sustained, P99, Reads, HitRate estimate
	Saturated                      []string // where each run saturated
	Busy                           string
}

// estimate is a figure as reports/bench writes it, split into the median and its interval, which a
// narrow table shows on a line of its own.
type estimate struct{ Value, Interval string }

func splitEstimate(s string) estimate {
	v, ci, _ := strings.Cut(s, " [")
	if ci != "" {
		ci = "[" + ci
	}
	return estimate{v, ci}
}

// runCheck is one of the expectations the report checks, with a class for its outcome.
type runCheck struct {
	bench.Check
	Class string
}

// checkClass maps an outcome to its look: passed, failed, or worth a look.
var checkClass = map[string]string{bench.Pass: "pass", bench.Fail: "fail", bench.Warn: "warn", bench.Mixed: "warn"}

// graphSection is the graphs of one mix, or of none (graphs the results do not name).
type graphSection struct {
	Title  string
	Graphs []runGraph
}

// runGraph is one PNG of the run, with the size its header states.
type runGraph struct {
	URL, Alt      string
	Width, Height int
}

// runFileLink is a file of the run, as its page lists it.
type runFileLink struct {
	Name, URL, Size, What string
	TooLarge              bool
}

// fileWhat says what loadgen writes under each of a run's names.
var fileWhat = map[string]string{
	bench.ResultsJSON: "everything measured, read back by loadgen report",
	bench.ResultsCSV:  "a row a step",
	bench.IndexHTML:   "the report as loadgen wrote it",
	bench.SummaryMD:   "the summary in Markdown",
	bench.CompareMD:   "a comparison loadgen compare wrote",
	bench.CompareHTML: "a comparison loadgen compare wrote",
}

// pageReportRun serves /reports/run/ID (the run's page) and /reports/run/ID/NAME (one of its files).
func (s *Server) pageReportRun(_ context.Context, rc *fasthttp.RequestCtx) error {
	id, name, hasFile := strings.Cut(strings.TrimPrefix(string(rc.Path()), pathReportRun), "/")
	r, err := s.findRun(id)
	if err != nil {
		return err
	}
	if hasFile && name != "" {
		return s.serveRunFile(rc, r, name)
	}
	return s.renderRun(rc, r)
}

// findRun returns the listed run with id.
func (s *Server) findRun(id string) (runs.Run, error) {
	l, err := runs.List(s.cfg.Reports, s.sampleDirs)
	r, ok := l.Find(id)
	switch {
	case ok:
		return r, nil
	case err != nil:
		return runs.Run{}, fmt.Errorf("list the reports folder %s: %w", s.cfg.Reports, err)
	}
	return runs.Run{}, errorf(app.ErrNotFound, "There is no benchmark run %q. The Benchmarks page lists them.", id)
}

func (s *Server) renderRun(rc *fasthttp.RequestCtx, r runs.Run) error {
	root, files, err := r.OpenFiles()
	if err != nil {
		return err
	}
	defer root.Close()
	p := &runPage{chrome: chrome{Title: "Benchmark run " + r.ID, Active: pathReports}}
	for _, f := range files {
		p.Files = append(p.Files, runFileLink{Name: f.Name, URL: runFileURL(r.ID, f.Name), Size: app.HumanSize(f.Size),
			What: fileWhat[f.Name], TooLarge: f.TooLarge()})
	}
	res, err := runs.Load(r)
	if err != nil {
		// A results.json the page cannot read is said on the page, which still lists the files.
		code, msg := s.pageFailure(rc, err)
		if code == http.StatusInternalServerError {
			return err
		}
		p.Error = msg
		p.Run.setRun(r)
		s.render(rc, code, "report", p)
		return nil
	}
	cells := bench.Cells(res)
	p.Run = summarizeRun(r, res, cells)
	p.Decoded = true
	p.Facts = runFacts(res)
	p.Command = bench.Command(res)
	for _, c := range bench.Checks(res) {
		p.Checks = append(p.Checks, runCheck{Check: c, Class: cmp.Or(checkClass[c.Outcome], "neutral")})
	}
	for _, c := range cells {
		p.Cells = append(p.Cells, runCellOf(c))
	}
	p.Graphs = s.runGraphs(root, r, res, files)
	s.render(rc, http.StatusOK, "report", p)
	return nil
}

// runFacts are the run's settings, as its report states them.
func runFacts(res *results.Results) []figure {
	pr, d := res.Params, res.Dataset
	target := pr.Target
	if pr.Managed {
		target += " (started by loadgen)"
	}
	mode := "full"
	if pr.Quick {
		mode = "quick"
	}
	share := "?"
	if d.StoredBytes > 0 {
		share = strconv.FormatFloat(100*float64(pr.CapacityMB)*(1<<20)/float64(d.StoredBytes), 'f', 0, 64) + "%"
	}
	return []figure{
		{"Mode", mode + ", " + strconv.Itoa(pr.Repeats()) + " run(s) of each cell"},
		{"Target", target},
		{"Workload", pr.Workload + "; read keys " + pr.Popularity},
		{"Data set", fmt.Sprintf("%d images, %s", d.Images, app.HumanSize(d.Bytes))},
		{"Cache", fmt.Sprintf("%d MB, %s of the data set as cached", pr.CapacityMB, share)},
		{"Steps", fmt.Sprintf("%v warm-up and %v measured, from %g/s ×%g up to %g/s", pr.Warmup, pr.Duration, pr.StartRate, pr.RateFactor, pr.MaxRate)},
	}
}

// runCellOf writes a cell's figures: medians of its runs with their intervals.
func runCellOf(c bench.Cell) runCell {
	rc := runCell{Mix: c.Mix.String(), Policy: bench.PolicyLabel(c.Policy),
		Sustained: splitEstimate(bench.RateEstimate(c.Sustained)), Saturated: strings.Split(c.SearchText(), ", "),
		P99: splitEstimate(bench.MsEstimate(c.P99)), Reads: splitEstimate(bench.MsEstimate(c.ReadP99)),
		HitRate: splitEstimate(bench.PctEstimate(c.HitRate)), Busy: strconv.Itoa(c.HeavySteps) + " of " + strconv.Itoa(c.Steps)}
	if c.NotReached > 0 {
		rc.Sustained.Value = "≥ " + rc.Sustained.Value
	}
	return rc
}

// runGraphs are the run's PNGs that decode as PNG, a section a mix in the order of the report's
// graphs, then any others. The header gives each <img> its size, so the page does not jump as they
// load.
func (s *Server) runGraphs(root *os.Root, r runs.Run, res *results.Results, files []runs.File) []graphSection {
	graphs := map[string]runGraph{}
	for _, f := range files {
		if f.ContentType != runs.FileTypes[".png"] || f.TooLarge() {
			continue
		}
		w, h, err := pngSize(root, f)
		if err != nil {
			s.log.Warn("a graph of a run is not a PNG", "run", r.Label, "file", f.Name, "err", err)
			continue
		}
		graphs[f.Name] = runGraph{URL: runFileURL(r.ID, f.Name), Alt: f.Name, Width: w, Height: h}
	}
	var out []graphSection
	for _, g := range bench.Graphs(res) {
		pg, ok := graphs[g.File]
		if !ok {
			continue
		}
		delete(graphs, g.File)
		pg.Alt = strings.ReplaceAll(g.Title, "\n", " — ")
		title := "Reads:writes " + g.Mix.String()
		if n := len(out); n == 0 || out[n-1].Title != title {
			out = append(out, graphSection{Title: title})
		}
		out[len(out)-1].Graphs = append(out[len(out)-1].Graphs, pg)
	}
	var other graphSection
	for _, f := range files { // in the order of their names
		if g, ok := graphs[f.Name]; ok {
			other.Graphs = append(other.Graphs, g)
		}
	}
	if len(other.Graphs) > 0 {
		other.Title = "Other graphs"
		out = append(out, other)
	}
	return out
}

// pngSize reads a listed PNG's dimensions from its header.
func pngSize(root *os.Root, f runs.File) (w, h int, err error) {
	file, _, err := runs.OpenFile(root, f)
	if err != nil {
		return 0, 0, err
	}
	defer file.Close()
	cfg, err := png.DecodeConfig(io.LimitReader(file, 1<<16))
	if err != nil {
		return 0, 0, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > 1<<14 || cfg.Height > 1<<14 {
		return 0, 0, errors.New("implausible dimensions")
	}
	return cfg.Width, cfg.Height, nil
}
