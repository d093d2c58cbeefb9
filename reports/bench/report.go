package bench

import (
	"embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"imgcache/reports/interval"
	"imgcache/reports/results"
)

// Files of a report folder besides the graphs.
const (
	ResultsJSON = "results.json"
	ResultsCSV  = "results.csv"
	IndexHTML   = "index.html"
	SummaryMD   = "summary.md"
	CompareMD   = "compare.md"
	CompareHTML = "compare.html"
	VegetaDir   = "vegeta" // loadgen's per-step result files, when kept
)

//go:embed templates
var templateFS embed.FS

// WriteReport writes the whole report of res into dir: results.json, results.csv, the graphs,
// index.html and summary.md. It only reads res, so it redraws a saved run as well; the page links
// vegeta's result files only when dir holds them.
func WriteReport(dir string, res *results.Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	if err := res.WriteFile(filepath.Join(dir, ResultsJSON)); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	if err := writeFile(filepath.Join(dir, ResultsCSV), func(w io.Writer) error { return WriteCSV(w, res) }); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	graphs, err := WriteGraphs(dir, res)
	if err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	page := newPage(res, graphs)
	if fi, err := os.Stat(filepath.Join(dir, VegetaDir)); err == nil && fi.IsDir() {
		page.VegetaDir = VegetaDir
	}
	if err := writeFile(filepath.Join(dir, IndexHTML), func(w io.Writer) error { return executeHTML(w, "index.html.tmpl", page) }); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	if err := writeFile(filepath.Join(dir, SummaryMD), func(w io.Writer) error { return executeText(w, "summary.md.tmpl", page) }); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	return nil
}

// CSVHeader is the header row of results.csv.
func CSVHeader() []string {
	return []string{
		"mix", "policy", "run", "phase", "capacity_mb", "offered_rps", "sent_rps", "throughput_rps", "duration_s",
		"requests", "errors", "error_rate", "errors_by_kind",
		"p50_ms", "p90_ms", "p99_ms", "max_ms",
		"read_requests", "read_p50_ms", "read_p90_ms", "read_p99_ms", "read_max_ms",
		"write_requests", "write_p50_ms", "write_p90_ms", "write_p99_ms", "write_max_ms",
		"cache_gets", "cache_hits", "hit_rate", "outside_cpus", "busy_machine", "saturated", "reasons",
	}
}

// WriteCSV writes one row per step of res.
func WriteCSV(w io.Writer, res *results.Results) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader()); err != nil {
		return err
	}
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	ms := func(d time.Duration) string { return f(millis(d), 3) }
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	for _, s := range res.Series {
		for _, st := range s.Steps {
			hit, load := "", ""
			if h, ok := st.HitRate(); ok {
				hit = f(h, 4)
			}
			if st.Load.OK {
				load = f(st.Load.Outside, 2)
			}
			phase := st.Phase
			if phase == "" {
				phase = results.PhaseSweep
			}
			row := []string{
				s.Mix.String(), s.Policy, strconv.Itoa(s.Repeat + 1), phase, strconv.Itoa(s.CapacityMB),
				f(st.Offered, 0), f(st.Sent, 1), f(st.Throughput, 1), f(st.Duration.Seconds(), 2),
				u(st.All.Requests), u(st.All.Requests - st.All.Successes), f(st.ErrorRate(), 4), errorKinds(st),
				ms(st.All.P50), ms(st.All.P90), ms(st.All.P99), ms(st.All.Max),
				u(st.Reads.Requests), ms(st.Reads.P50), ms(st.Reads.P90), ms(st.Reads.P99), ms(st.Reads.Max),
				u(st.Writes.Requests), ms(st.Writes.P50), ms(st.Writes.P90), ms(st.Writes.P99), ms(st.Writes.Max),
				strconv.FormatInt(st.CacheGets, 10), strconv.FormatInt(st.CacheHits, 10), hit, load,
				strconv.FormatBool(st.Load.Heavy), strconv.FormatBool(st.Saturated), strings.Join(st.Reasons, "; "),
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// errorKinds formats a step's errors as "kind=count; ..." in a stable order.
func errorKinds(st results.Step) string {
	kinds := make([]string, 0, len(st.Errors))
	for k := range st.Errors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%s=%d", k, st.Errors[k])
	}
	return strings.Join(kinds, "; ")
}

// page is what the report's templates see.
type page struct {
	Res       *results.Results
	Mixes     []mixSection
	Rows      []row
	Checks    []Check
	Params    [][2]string
	Machine   [][2]string
	Command   string // the shell command that reproduces the run
	VegetaDir string // set when the folder holds vegeta's files
	Runs      int
	Bounds    []string // what the miss-ratio curves say of the highest hit rate, a mix each
	Verify    []VerifyRow
	BadReads  []string // the first offending reads
	Interval  string   // what the brackets hold: interval.Caption of Runs
	Costs     []Cost   // what the requests cost, cell by cell; none when the run did not measure it
}

// row is a cell of the summary table with its simulated hit rates at the live size.
type row struct {
	Cell
	Sim string // "policy's / MIN's", or "–"
}

type mixSection struct {
	Mix    results.Mix
	Graphs []Graph
	MRC    *results.MRC
	Live   []Live
}

func newPage(res *results.Results, graphs []Graph) *page {
	p := &page{Res: res, Checks: Checks(res), Runs: res.Params.Repeats(), Command: Command(res), Verify: VerifyRows(res)}
	for _, b := range res.Verification().BadReads {
		p.BadReads = append(p.BadReads, BadReadText(b))
	}
	p.Interval = interval.Caption(p.Runs)
	p.Costs = Costs(res)
	for _, c := range Cells(res) {
		r := row{Cell: c, Sim: "–"}
		for _, l := range LivePoints(res, c.Mix) {
			if l.Policy == c.Policy && l.OK {
				r.Sim = Pct(l.Simulated) + " / " + Pct(l.Belady)
			}
		}
		p.Rows = append(p.Rows, r)
	}
	for _, g := range graphs {
		if n := len(p.Mixes); n == 0 || p.Mixes[n-1].Mix != g.Mix {
			p.Mixes = append(p.Mixes, mixSection{Mix: g.Mix, Live: LivePoints(res, g.Mix)})
			if m, ok := res.MRCOf(g.Mix); ok && len(m.Curves) > 0 {
				p.Mixes[len(p.Mixes)-1].MRC = &m
			}
		}
		sec := &p.Mixes[len(p.Mixes)-1]
		sec.Graphs = append(sec.Graphs, g)
	}
	for _, sec := range p.Mixes {
		if b, ok := boundSentence(res, sec); ok {
			p.Bounds = append(p.Bounds, b)
		}
	}
	pr, d, m := res.Params, res.Dataset, res.Machine
	mixes := make([]string, len(pr.Mixes))
	for i, mx := range pr.Mixes {
		mixes[i] = mx.String()
	}
	target := pr.Target
	if pr.Managed {
		target += " (started by loadgen)"
	}
	writes := map[string]string{
		"same": "by the read law", "uniform": "uniformly over the data set",
		"new": "to keys no read asks for (a pool as large as the data set, cycled)",
	}[pr.WriteKeys]
	if writes == "" {
		writes = pr.WriteKeys
	}
	p.Params = [][2]string{
		{"mode", map[bool]string{true: "quick", false: "full"}[pr.Quick]},
		{"target", target},
		{"workload", pr.Workload},
		{"data set", fmt.Sprintf("%d images (%d PNG, %d JPEG), %s; sizes %s / %s / %s (min / median / max); seed %d",
			d.Images, d.PNG, d.JPEG, benchBytes(d.Bytes), benchBytes(int64(d.MinBytes)), benchBytes(int64(d.MedianBytes)), benchBytes(int64(d.MaxBytes)), d.Seed)},
		{"read keys", pr.Popularity + "; every policy of a mix and run sees the same sequence of keys, each run its own"},
		{"write keys", writes},
		{"cache", cacheText(res)},
		{"mixes (reads:writes)", strings.Join(mixes, ", ")},
		{"policies", strings.Join(pr.Policies, ", ")},
		{"runs of each cell", fmt.Sprintf("%d, interleaved: every cell once a round, forward in odd rounds and backward in even ones", pr.Repeats())},
		{"offered rates", fmt.Sprintf("from %g/s, ×%g a step, up to %g/s, until saturation; then bisection between the last rate served and the first saturated, until within %.0f%% or after %d steps",
			pr.StartRate, pr.RateFactor, pr.MaxRate, 100*pr.Resolution, pr.SearchSteps)},
		{"step", fmt.Sprintf("%v warm-up (not counted) + %v measured, a new vegeta attacker each; timeout %v; at most %d workers", pr.Warmup, pr.Duration, pr.Timeout, pr.MaxWorkers)},
		{"saturation", fmt.Sprintf("achieved < %.0f%% of offered, errors > %.1f%%, p99 > %v, or the backlog grew: requests answered ever later against the schedule, by more than %.0f%% of the window (at least %v); a full run confirms each cell's sustained rate (the median of its runs) with one step three times as long in its last run",
			100*pr.Limits.MinAchieved, 100*pr.Limits.MaxErrorRate, pr.Limits.MaxP99, 100*results.Limits.WithDefaults(pr.Limits).MaxBacklog, results.MinBacklogGrowth)},
		{"busy machine", fmt.Sprintf("a step is run again, once, when other processes used more than %.2f CPUs during it, and flagged if the second try was busy too", pr.HeavyLoad)},
		{"started", res.Started.Format(time.RFC3339)},
		{"run time", res.Finished.Sub(res.Started).Round(time.Second).String()},
	}
	if pr.Pinned != "" {
		p.Params = append(p.Params, [2]string{"CPU placement", pr.Pinned})
	} else if pr.Managed {
		p.Params = append(p.Params, [2]string{"CPU placement", "none: loadgen and the services share every CPU (-pin separates them)"})
	}
	if sv, ok := servicesText(pr); ok {
		p.Params = slices.Insert(p.Params, 2, [2]string{"services", sv})
	}
	if res.MRCTime > 0 {
		p.Params = append(p.Params, [2]string{"miss-ratio curves", fmt.Sprintf("computed in %v", res.MRCTime.Round(time.Millisecond))})
	}
	if res.Error != "" {
		p.Params = append(p.Params, [2]string{"ended early", res.Error})
	}
	p.Machine = [][2]string{
		{"CPU", fmt.Sprintf("%s, %d logical CPUs", m.CPUModel, m.CPUs)},
		{"OS", m.OS + "/" + m.Arch},
		{"Go", m.GoVersion},
		{"commit", m.Commit},
		{"database", m.Database},
	}
	return p
}

// boundSentence says what the curves of a mix allow, in words that the figures beside them
// cannot contradict: the bound is computed from the very trace, and a measured rate above it is
// named and explained rather than ignored.
func boundSentence(res *results.Results, sec mixSection) (string, bool) {
	if sec.MRC == nil {
		return "", false
	}
	m := sec.MRC
	top, ok := Ceiling(*m)
	if !ok {
		return "", false
	}
	s := fmt.Sprintf("At %s, no cache replaying the keys sent in order can hit more than %s of reads however large it is (an infinite cache: every read but a key's first and its first after each write)", m.Mix, Pct(top))
	for _, l := range sec.Live {
		if l.OK {
			s += fmt.Sprintf("; at the live size (%.0f%%), Belady's MIN, a reference rather than a bound with images of different sizes, reaches %s", 100*l.Fraction, Pct(l.Belady))
			break
		}
	}
	var above []string
	for _, l := range sec.Live {
		if l.OK && l.HitRate.Center > top {
			above = append(above, fmt.Sprintf("%s measured %s", PolicyLabel(l.Policy), PctEstimate(l.HitRate)))
		}
	}
	if len(above) > 0 {
		verb := " is"
		if len(above) > 1 {
			verb = " are"
		}
		s += "; " + strings.Join(above, " and ") + verb + " above it: " + aboveBound
	}
	return s, true
}

// aboveBound explains a measured hit rate above the ceiling of the trace sent.
const aboveBound = "the bound counts every read of the run in the order loadgen handed them out, the first cold misses included, " +
	"while the live counters skip the warm-ups and see requests served concurrently, where a read can reach the cache before an earlier upload's invalidation and hit"

// Command returns the shell command that reproduces the run: the commit, then the command line.
func Command(res *results.Results) string {
	if len(res.Command) == 0 {
		return ""
	}
	args := make([]string, len(res.Command))
	for i, a := range res.Command {
		args[i] = shellQuote(a)
	}
	cmd := strings.Join(args, " ")
	if c := res.Machine.Commit; c != "" && c != "unknown" && !strings.HasSuffix(c, "+dirty") {
		cmd = "git checkout " + c + " && make build && " + cmd
	}
	return cmd
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@%+", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func funcs() map[string]any {
	return map[string]any{
		"ms":      benchMillis,
		"policy":  PolicyLabel,
		"rate":    func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) },
		"rate1":   func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
		"pct":     Pct,
		"pctE":    PctEstimate,
		"rateE":   RateEstimate,
		"msE":     MsEstimate,
		"usE":     UsEstimate,
		"ratioE":  RatioEstimate,
		"cpus":    func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) },
		"mb":      func(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) },
		"hit":     stepHit,
		"errkind": errorKinds,
		"join":    strings.Join,
		"oneline": func(s string) string { return strings.ReplaceAll(s, "\n", " — ") },
		"add1":    func(i int) int { return i + 1 },
		"fmtE":    func(f func(interval.Estimate) string, e interval.Estimate) string { return f(e) },
		"signed":  func(v float64) string { return fmt.Sprintf("%+.1f%%", 100*v) },
		"phase": func(st results.Step) string {
			if st.InSweep() {
				return "sweep"
			}
			return "search"
		},
	}
}

func stepHit(st results.Step) string {
	if h, ok := st.HitRate(); ok {
		return Pct(h)
	}
	return "–"
}

func executeHTML(w io.Writer, name string, data any) error {
	t, err := template.New(name).Funcs(funcs()).ParseFS(templateFS, "templates/"+name)
	if err != nil {
		return err
	}
	return t.Execute(w, data)
}

func executeText(w io.Writer, name string, data any) error {
	t, err := texttemplate.New(name).Funcs(funcs()).ParseFS(templateFS, "templates/"+name)
	if err != nil {
		return err
	}
	return t.Execute(w, data)
}

// cacheText is the cache row of the parameters: the capacity, which every node of a pool has.
func cacheText(res *results.Results) string {
	pr, d := res.Params, res.Dataset
	t := fmt.Sprintf("%d MB = %.0f%% of the data set as cached (base64 values and keys, %s)", pr.CapacityMB, 100*cacheShare(res), benchBytes(d.StoredBytes))
	if pr.Nodes > 1 {
		t += fmt.Sprintf(", on each of the %d memcache nodes: %d MB in the pool", pr.Nodes, pr.Nodes*pr.CapacityMB)
	}
	return t
}

// servicesText says what served the run, image store, backends and memcache nodes, as far as
// the results record it; results written before these were recorded have none (false).
func servicesText(pr results.Params) (string, bool) {
	var parts []string
	switch pr.Storage {
	case "":
	case "s3":
		s := "images in S3"
		if pr.Managed {
			s += " (versitygw on loopback, started by loadgen)"
		}
		if pr.StorageModel != "" {
			s += ", behind a proxy that models a remote store: " + pr.StorageModel
		}
		parts = append(parts, s)
	case "file":
		parts = append(parts, "images in a local folder")
	default:
		parts = append(parts, "images in "+pr.Storage)
	}
	if pr.Backends > 0 {
		s := "1 backend"
		if pr.Backends > 1 {
			s = fmt.Sprintf("%d backends, the requests spread over them in turn", pr.Backends)
		}
		parts = append(parts, s)
	}
	if pr.Nodes > 0 {
		s := "1 memcache node"
		if pr.Nodes > 1 {
			s = fmt.Sprintf("a pool of %d memcache nodes (hit rates summed over them)", pr.Nodes)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; "), len(parts) > 0
}
