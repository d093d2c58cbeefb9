package bench

import (
	"embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"imgcache/loadgen"
)

// Files of a bench report folder besides the graphs.
const (
	BenchResultsJSON = "results.json"
	BenchResultsCSV  = "results.csv"
	BenchIndexHTML   = "index.html"
	BenchSummaryMD   = "summary.md"
)

//go:embed templates/report_index.html.tmpl templates/report_summary.md.tmpl
var benchTemplateFS embed.FS

// WriteBenchReport writes the whole report of res into dir: results.json, results.csv, the six
// graphs, index.html and summary.md. It only reads res, so it redraws a saved run as well.
func WriteBenchReport(dir string, res *loadgen.Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	if err := res.WriteFile(filepath.Join(dir, BenchResultsJSON)); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	if err := benchWriteFile(filepath.Join(dir, BenchResultsCSV), func(w io.Writer) error { return WriteBenchCSV(w, res) }); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	graphs, err := WriteBenchGraphs(dir, res)
	if err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	page := newBenchPage(res, graphs)
	if err := benchWriteFile(filepath.Join(dir, BenchIndexHTML), page.writeHTML); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	if err := benchWriteFile(filepath.Join(dir, BenchSummaryMD), page.writeMarkdown); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	return nil
}

// BenchCSVHeader is the header row of results.csv.
var BenchCSVHeader = []string{
	"mix", "policy", "capacity_mb", "offered_rps", "sent_rps", "throughput_rps", "duration_s",
	"requests", "errors", "error_rate", "errors_by_kind",
	"p50_ms", "p90_ms", "p99_ms", "max_ms",
	"read_requests", "read_p50_ms", "read_p90_ms", "read_p99_ms", "read_max_ms",
	"write_requests", "write_p50_ms", "write_p90_ms", "write_p99_ms", "write_max_ms",
	"cache_gets", "cache_hits", "hit_rate", "saturated", "reasons",
}

// WriteBenchCSV writes one row per step of res.
func WriteBenchCSV(w io.Writer, res *loadgen.Results) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(BenchCSVHeader); err != nil {
		return err
	}
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	ms := func(d time.Duration) string { return f(float64(d)/float64(time.Millisecond), 3) }
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	for _, s := range res.Series {
		for _, st := range s.Steps {
			hit := ""
			if h, ok := st.HitRate(); ok {
				hit = f(h, 4)
			}
			row := []string{
				s.Mix.String(), s.Policy, strconv.Itoa(s.CapacityMB),
				f(st.Offered, 0), f(st.Sent, 1), f(st.Throughput, 1), f(st.Duration.Seconds(), 2),
				u(st.All.Requests), u(st.All.Requests - st.All.Successes), f(st.ErrorRate(), 4), benchErrorKinds(st),
				ms(st.All.P50), ms(st.All.P90), ms(st.All.P99), ms(st.All.Max),
				u(st.Reads.Requests), ms(st.Reads.P50), ms(st.Reads.P90), ms(st.Reads.P99), ms(st.Reads.Max),
				u(st.Writes.Requests), ms(st.Writes.P50), ms(st.Writes.P90), ms(st.Writes.P99), ms(st.Writes.Max),
				strconv.FormatInt(st.CacheGets, 10), strconv.FormatInt(st.CacheHits, 10), hit,
				strconv.FormatBool(st.Saturated), strings.Join(st.Reasons, "; "),
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// benchErrorKinds formats a step's errors as "kind=count; ..." in a stable order.
func benchErrorKinds(st loadgen.Step) string {
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

// BenchSummaryRow is a line of the summary table: one mix and policy.
type BenchSummaryRow struct {
	Mix        loadgen.Mix
	Policy     string
	CapacityMB int
	// Peak is the step of highest achieved throughput, the saturation throughput; PeakOK is
	// false for a series without steps.
	Peak   loadgen.Step
	PeakOK bool
	// Sustained is the last step before saturation: the highest rate served within the limits,
	// with its latency; SustainedOK is false when the first step already saturated.
	Sustained   loadgen.Step
	SustainedOK bool
	// SaturatedAt is the offered rate of the first saturated step, 0 if none saturated, and
	// Reasons why it counted as saturated.
	SaturatedAt float64
	Reasons     []string
	HitRate     float64 // over all steps: total hits / total lookups
	HitRateOK   bool
	Error       string
}

// BenchSummary returns a row for each series of res, in run order.
func BenchSummary(res *loadgen.Results) []BenchSummaryRow {
	rows := make([]BenchSummaryRow, 0, len(res.Series))
	for _, s := range res.Series {
		r := BenchSummaryRow{Mix: s.Mix, Policy: s.Policy, CapacityMB: s.CapacityMB, Error: s.Error}
		r.Peak, r.PeakOK = s.Peak()
		r.HitRate, _, r.HitRateOK = s.HitRate()
		for _, st := range s.Steps {
			if st.Saturated {
				r.SaturatedAt, r.Reasons = st.Offered, st.Reasons
				break
			}
			r.Sustained, r.SustainedOK = st, true
		}
		rows = append(rows, r)
	}
	return rows
}

// Outcomes of a BenchCheck.
const (
	BenchPass    = "pass"
	BenchFail    = "FAIL"
	BenchMixed   = "mixed" // the figures point both ways
	BenchTie     = "tie"   // the difference is within the noise
	BenchUnknown = "n/a"
)

// BenchCheck is one of the expectations a meaningful run must meet, with the figures behind
// the verdict.
type BenchCheck struct {
	Name    string
	Outcome string // BenchPass, BenchFail, BenchMixed, BenchTie or BenchUnknown
	Detail  string
}

// BenchChecks tests what the run must show: with skewed keys and a cache smaller than the data
// set, LRU hits more often than Random in every mix; and on the most read-heavy mix the
// cache-off baseline is slower than LRU (higher read p50 and p99 at the highest rate both
// served unsaturated).
func BenchChecks(res *loadgen.Results) []BenchCheck {
	var checks []BenchCheck
	for _, mix := range res.Mixes() {
		c := BenchCheck{Name: fmt.Sprintf("LRU hit rate above Random's at %s", mix), Outcome: BenchUnknown}
		lru, ok1 := res.Find(mix, loadgen.PolicyLRU)
		rnd, ok2 := res.Find(mix, loadgen.PolicyRandom)
		hl, nl, okl := benchCommonHitRate(lru, rnd)
		hr, nr, okr := benchCommonHitRate(rnd, lru)
		switch {
		case !ok1 || !ok2:
			c.Detail = "the run lacks LRU or Random"
		case !okl || !okr:
			c.Detail = "no cache statistics at an unsaturated rate both ran"
		default:
			// Two standard errors of the difference of two proportions: a smaller difference
			// is the luck of the draw, not the policy.
			noise := 2 * math.Sqrt(hl*(1-hl)/float64(nl)+hr*(1-hr)/float64(nr))
			switch d := hl - hr; {
			case d > noise:
				c.Outcome = BenchPass
			case d < -noise:
				c.Outcome = BenchFail
			default:
				c.Outcome = BenchTie
			}
			c.Detail = fmt.Sprintf("LRU %.1f%%, Random %.1f%% over the rates both served unsaturated (differences within ±%.1f points are noise); ceiling %.0f%%",
				100*hl, 100*hr, 100*noise, 100*BenchHitCeiling(mix))
		}
		checks = append(checks, c)
	}

	mixes := res.Mixes()
	if len(mixes) == 0 {
		return checks
	}
	heavy := slices.MaxFunc(mixes, func(a, b loadgen.Mix) int {
		return cmpFloat(a.ReadFraction(), b.ReadFraction())
	})
	c := BenchCheck{Name: fmt.Sprintf("cache off slower than LRU at %s", heavy), Outcome: BenchUnknown}
	lru, ok1 := res.Find(heavy, loadgen.PolicyLRU)
	off, ok2 := res.Find(heavy, loadgen.PolicyOff)
	if !ok1 || !ok2 {
		c.Detail = "the run lacks LRU or the cache-off baseline"
		return append(checks, c)
	}
	// Read latency at the highest rate both served within the limits: the load where a cache
	// is meant to help, and free of the queueing of saturated steps. The lowest rate is shown
	// too, where fixed costs dominate.
	var common [][2]loadgen.Step
	for _, a := range lru.Steps {
		for _, b := range off.Steps {
			if a.Offered == b.Offered && !a.Saturated && !b.Saturated && a.Reads.Requests > 0 && b.Reads.Requests > 0 {
				common = append(common, [2]loadgen.Step{a, b})
			}
		}
	}
	pl, _ := lru.Peak()
	po, _ := off.Peak()
	peaks := fmt.Sprintf("; saturation throughput LRU %.0f/s, cache off %.0f/s", pl.Throughput, po.Throughput)
	if len(common) == 0 {
		c.Detail = "no unsaturated rate in common" + peaks
		return append(checks, c)
	}
	at := func(p [2]loadgen.Step) string {
		return fmt.Sprintf("at %.0f/s read p50/p99 LRU %s/%s ms, cache off %s/%s ms", p[0].Offered,
			benchMillis(p[0].Reads.P50), benchMillis(p[0].Reads.P99), benchMillis(p[1].Reads.P50), benchMillis(p[1].Reads.P99))
	}
	hi, lo := common[len(common)-1], common[0]
	switch {
	case hi[1].Reads.P50 > hi[0].Reads.P50 && hi[1].Reads.P99 > hi[0].Reads.P99:
		c.Outcome = BenchPass
	case hi[1].Reads.P50 < hi[0].Reads.P50 && hi[1].Reads.P99 < hi[0].Reads.P99:
		c.Outcome = BenchFail
	default:
		c.Outcome = BenchMixed
	}
	c.Detail = at(hi)
	if len(common) > 1 {
		c.Detail += "; " + at(lo)
	}
	c.Detail += peaks
	return append(checks, c)
}

// benchCommonHitRate is the hit rate of s over the offered rates that both s and other served
// unsaturated, so that two policies are compared under the same loads (near saturation, hits
// fall for reasons of load: slow misses let writes revoke their fills).
func benchCommonHitRate(s, other loadgen.Series) (float64, int64, bool) {
	ok := map[float64]bool{}
	for _, st := range other.Steps {
		if !st.Saturated && st.CacheStats {
			ok[st.Offered] = true
		}
	}
	var gets, hits int64
	for _, st := range s.Steps {
		if ok[st.Offered] && !st.Saturated && st.CacheStats {
			gets += st.CacheGets
			hits += st.CacheHits
		}
	}
	if gets <= 0 {
		return 0, 0, false
	}
	return float64(hits) / float64(gets), gets, true
}

// BenchHitCeiling is the highest hit rate any cache can reach at mix when reads and writes pick
// keys alike: a read hits only if the previous request for its key was a read (a write
// invalidates), which happens with the read share's probability, however large the cache.
func BenchHitCeiling(mix loadgen.Mix) float64 { return mix.ReadFraction() }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// benchPage is what the templates see.
type benchPage struct {
	Res     *loadgen.Results
	Graphs  []benchGraphPair
	Summary []BenchSummaryRow
	Checks  []BenchCheck
	Params  [][2]string
	Machine [][2]string
}

type benchGraphPair struct {
	Mix                 loadgen.Mix
	Latency, Throughput BenchGraph
}

func newBenchPage(res *loadgen.Results, graphs []BenchGraph) *benchPage {
	p := &benchPage{Res: res, Summary: BenchSummary(res), Checks: BenchChecks(res)}
	for _, g := range graphs {
		if n := len(p.Graphs); n == 0 || p.Graphs[n-1].Mix != g.Mix {
			p.Graphs = append(p.Graphs, benchGraphPair{Mix: g.Mix})
		}
		gp := &p.Graphs[len(p.Graphs)-1]
		if g.Kind == BenchLatency {
			gp.Latency = g
		} else {
			gp.Throughput = g
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
	p.Params = [][2]string{
		{"mode", map[bool]string{true: "quick", false: "full"}[pr.Quick]},
		{"target", target},
		{"data set", fmt.Sprintf("%d images (%d PNG, %d JPEG), %s; sizes %s / %s / %s (min / median / max); seed %d",
			d.Images, d.PNG, d.JPEG, benchBytes(d.Bytes), benchBytes(int64(d.MinBytes)), benchBytes(int64(d.MedianBytes)), benchBytes(int64(d.MaxBytes)), d.Seed)},
		{"key popularity", pr.Popularity + ", the same sequence of keys for every policy"},
		{"cache", fmt.Sprintf("%d MB = %.0f%% of the data set as cached (base64 values and keys, %s)", pr.CapacityMB, 100*benchCacheShare(res), benchBytes(d.StoredBytes))},
		{"mixes (reads:writes)", strings.Join(mixes, ", ")},
		{"policies", strings.Join(pr.Policies, ", ")},
		{"offered rates", fmt.Sprintf("from %g/s, ×%g a step, up to %g/s, until saturation", pr.StartRate, pr.RateFactor, pr.MaxRate)},
		{"step", fmt.Sprintf("%v warm-up (not counted) + %v measured, a new vegeta attacker each; timeout %v; at most %d workers", pr.Warmup, pr.Duration, pr.Timeout, pr.MaxWorkers)},
		{"saturation", fmt.Sprintf("achieved < %.0f%% of offered, errors > %.1f%%, or p99 > %v", 100*pr.Limits.MinAchieved, 100*pr.Limits.MaxErrorRate, pr.Limits.MaxP99)},
		{"started", res.Started.Format(time.RFC3339)},
		{"run time", res.Finished.Sub(res.Started).Round(time.Second).String()},
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

var benchFuncs = map[string]any{
	"ms":     benchMillis,
	"policy": BenchPolicyLabel,
	"rate":   func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) },
	"rate1":  func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"pct":    func(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" },
	"hit": func(st loadgen.Step) string {
		if h, ok := st.HitRate(); ok {
			return strconv.FormatFloat(100*h, 'f', 1, 64) + "%"
		}
		return "–"
	},
	"errkinds": benchErrorKinds,
	"ceiling":  BenchHitCeiling,
	"join":     strings.Join,
	"oneline":  func(s string) string { return strings.ReplaceAll(s, "\n", " — ") },
}

func (p *benchPage) writeHTML(w io.Writer) error {
	t, err := template.New("report_index.html.tmpl").Funcs(benchFuncs).ParseFS(benchTemplateFS, "templates/report_index.html.tmpl")
	if err != nil {
		return err
	}
	return t.Execute(w, p)
}

func (p *benchPage) writeMarkdown(w io.Writer) error {
	t, err := texttemplate.New("report_summary.md.tmpl").Funcs(benchFuncs).ParseFS(benchTemplateFS, "templates/report_summary.md.tmpl")
	if err != nil {
		return err
	}
	return t.Execute(w, p)
}
