package loadgen

import (
	"fmt"
	"io"
	"strings"
	"time"

	"imgcache/reports/results"
)

// progress prints a line a step with an estimate of the time left for the whole run.
type progress struct {
	w        io.Writer
	start    time.Time
	series   int           // series in the run
	maxSteps int           // steps a series has at most
	stepTime time.Duration // planned warm-up + duration of a step

	doneSeries int
	doneSteps  int           // steps of finished series
	stepWall   time.Duration // wall time of all steps so far
	steps      int           // all steps so far
	uploads    time.Duration // upload time of series so far
	nUploads   int
	cur        int // steps of the current series
}

func newProgress(w io.Writer, series, maxSteps int, stepTime time.Duration) *progress {
	p := &progress{w: w, start: time.Now(), series: series, maxSteps: maxSteps, stepTime: stepTime}
	p.printf("run: %d series of up to %d steps of %v; at most ~%v\n",
		series, maxSteps, stepTime, p.left().Round(time.Second))
	return p
}

func (p *progress) printf(format string, args ...any) {
	if p != nil && p.w != nil {
		fmt.Fprintf(p.w, format, args...)
	}
}

// left estimates the time still to run: steps expected in the current and remaining series, at
// the step time seen so far, plus their uploads.
func (p *progress) left() time.Duration {
	perSeries := float64(p.maxSteps)
	if p.doneSeries > 0 {
		perSeries = float64(p.doneSteps) / float64(p.doneSeries)
	}
	stepWall := p.stepTime + 300*time.Millisecond
	if p.steps > 0 {
		stepWall = p.stepWall / time.Duration(p.steps)
	}
	var upload time.Duration
	if p.nUploads > 0 {
		upload = p.uploads / time.Duration(p.nUploads)
	}
	remaining := p.series - p.doneSeries
	steps := float64(remaining) * perSeries
	if p.cur > 0 {
		steps = max(steps-float64(p.cur), float64(remaining-1)*perSeries)
	}
	return time.Duration(steps*float64(stepWall)) + time.Duration(max(remaining-1, 0))*upload
}

func (p *progress) seriesStart(s results.Series) {
	p.cur = 0
	p.uploads += s.Upload
	p.nUploads++
	p.printf("series %d/%d: mix %s, %s, run %d, data set uploaded in %v\n",
		p.doneSeries+1, p.series, s.Mix, policyLabel(s), s.Repeat+1, s.Upload.Round(time.Millisecond))
}

func (p *progress) step(s results.Series, st results.Step, wall time.Duration) {
	p.cur++
	p.steps++
	p.stepWall += wall
	hit := "   -  "
	if h, ok := st.HitRate(); ok {
		hit = fmt.Sprintf("%5.1f%%", 100*h)
	}
	load := "   -  "
	if st.Load.OK {
		load = fmt.Sprintf("%4.2f", st.Load.Outside)
	}
	notes := ""
	if st.Load.Heavy {
		notes += "  BUSY MACHINE"
	}
	if st.Saturated {
		notes += "  SATURATED: " + strings.Join(st.Reasons, "; ")
	}
	if st.Unverified() > 0 {
		notes += fmt.Sprintf("  READS FAILED VERIFICATION: %d wrong, %d stale", st.Wrong, st.Stale)
	}
	phase := " "
	if !st.InSweep() {
		phase = "?" // a step of the search
	}
	p.printf("[%6s] %-5s %-9s rate%s%5.0f/s  thr %7.1f/s  p99 %8s  hit %s  err %4.1f%%  outside %s CPU  left ~%v%s\n",
		time.Since(p.start).Round(time.Second), s.Mix, policyLabel(s), phase, st.Offered, st.Throughput,
		fmtMillis(st.All.P99), hit, 100*st.ErrorRate(), load, p.left().Round(time.Second), notes)
}

func (p *progress) seriesEnd(s results.Series) {
	p.doneSeries++
	p.doneSteps += len(s.Steps)
	p.cur = 0
}

func (p *progress) done() {
	p.printf("run: done in %v\n", time.Since(p.start).Round(time.Second))
}

func policyLabel(s results.Series) string {
	if s.Policy == results.PolicyOff {
		return "cache-off"
	}
	return s.Policy
}

func fmtMillis(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
