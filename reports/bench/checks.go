package bench

import (
	"fmt"
	"slices"
	"strings"

	"imgcache/reports/interval"
	"imgcache/reports/results"
)

// Outcomes of a Check.
const (
	Pass    = "pass"
	Fail    = "FAIL"
	Mixed   = "mixed" // the figures point both ways
	Tie     = "tie"   // the intervals overlap: no difference can be called
	Warn    = "warn"  // the figures stand, but read them with the detail in mind
	Unknown = "n/a"
)

// Check is one of the expectations a meaningful run must meet, with the figures behind the
// verdict.
type Check struct {
	Name    string
	Outcome string
	Detail  string
}

// Checks tests what the run must show, calling a difference only when the interval of the
// paired differences of the repeats excludes zero (its coverage is stated beside it): with
// skewed keys and a cache smaller than the data set, LRU hits more often than Random in every
// mix; on the most read-heavy mix the cache-off baseline reads slower than LRU; the measured hit
// rates stay within the infinite cache's ceiling; every read was verified; and the machine was
// quiet.
func Checks(res *results.Results) []Check {
	var checks []Check
	for _, mix := range res.Mixes() {
		checks = append(checks, hitRateCheck(res, mix))
	}
	if c, ok := cacheOffCheck(res); ok {
		checks = append(checks, c)
	}
	if c, ok := ceilingCheck(res); ok {
		checks = append(checks, c)
	}
	checks = append(checks, verifyCheck(res))
	return append(checks, quietCheck(res))
}

func findCell(cells []Cell, mix results.Mix, policy string) (Cell, bool) {
	for _, c := range cells {
		if c.Mix == mix && c.Policy == policy {
			return c, true
		}
	}
	return Cell{}, false
}

// noInterval explains why no difference can be called from d.
func noInterval(d interval.Estimate) string {
	if d.N < 2 {
		return "fewer than two runs of each: no interval, so no difference is called (use -repeat 3 or more)"
	}
	return ""
}

// verdict turns a paired difference (better minus worse, as expected) into an outcome.
func verdict(d interval.Estimate) string {
	switch interval.Sign(d) {
	case 1:
		return Pass
	case -1:
		return Fail
	}
	return Tie
}

func seriesHitRate(s results.Series) (float64, bool) {
	h, _, ok := s.HitRate()
	return h, ok
}

func hitRateCheck(res *results.Results, mix results.Mix) Check {
	c := Check{Name: fmt.Sprintf("LRU hit rate above Random's at %s", mix), Outcome: Unknown}
	cells := Cells(res)
	lru, ok1 := findCell(cells, mix, results.PolicyLRU)
	rnd, ok2 := findCell(cells, mix, results.PolicyRandom)
	switch {
	case !ok1 || !ok2:
		c.Detail = "the run lacks LRU or Random"
		return c
	case lru.HitRate.N == 0 || rnd.HitRate.N == 0:
		c.Detail = "no cache statistics"
		return c
	}
	d := PairedDiff(PerRun(res, results.Cell{Mix: mix, Policy: results.PolicyRandom}, seriesHitRate),
		PerRun(res, results.Cell{Mix: mix, Policy: results.PolicyLRU}, seriesHitRate))
	c.Detail = fmt.Sprintf("measured LRU %s, Random %s", PctEstimate(lru.HitRate), PctEstimate(rnd.HitRate))
	if why := noInterval(d); why != "" {
		c.Detail += "; " + why
	} else {
		c.Outcome = verdict(d)
		c.Detail += fmt.Sprintf("; LRU − Random by run: %s points (%s)", pointsEstimate(d), pairedCaption(d))
	}
	for _, l := range LivePoints(res, mix) {
		if l.Policy == results.PolicyLRU && l.OK {
			if r, ok := simulatedAt(res, mix, results.PolicyRandom, l.Fraction); ok {
				c.Detail += fmt.Sprintf("; simulated on the keys sent, at this size: LRU %s, Random %s, Belady's MIN (a reference) %s",
					Pct(l.Simulated), Pct(r), Pct(l.Belady))
			}
		}
	}
	return c
}

// pointsEstimate formats a difference of shares in percentage points, signed.
func pointsEstimate(d interval.Estimate) string {
	f := func(v float64) string { return fmt.Sprintf("%+.1f", 100*v) }
	if !d.OK() {
		return f(d.Center)
	}
	return fmt.Sprintf("%s [%s, %s]", f(d.Center), f(d.Lo), f(d.Hi))
}

// simulatedAt returns policy's simulated hit rate at the size fraction of mix's curves.
func simulatedAt(res *results.Results, mix results.Mix, policy string, fraction float64) (float64, bool) {
	m, ok := res.MRCOf(mix)
	if !ok {
		return 0, false
	}
	curve, ok := m.Curve(policy)
	if !ok {
		return 0, false
	}
	for i, f := range m.Fractions {
		if f == fraction {
			return curve.HitRates[i], true
		}
	}
	return 0, false
}

func cacheOffCheck(res *results.Results) (Check, bool) {
	mixes := res.Mixes()
	if len(mixes) == 0 {
		return Check{}, false
	}
	heavy := slices.MaxFunc(mixes, func(a, b results.Mix) int { return cmpFloat(a.ReadFraction(), b.ReadFraction()) })
	c := Check{Name: fmt.Sprintf("cache off slower than LRU at %s", heavy), Outcome: Unknown}
	lru, off := results.Cell{Mix: heavy, Policy: results.PolicyLRU}, results.Cell{Mix: heavy, Policy: results.PolicyOff}
	if len(res.Runs(heavy, results.PolicyLRU)) == 0 || len(res.Runs(heavy, results.PolicyOff)) == 0 {
		c.Detail = "the run lacks LRU or the cache-off baseline"
		return c, true
	}
	// Read latency at the highest rate every run of both served within the limits: the load
	// where a cache is meant to help, and free of the queueing of saturated steps.
	rate, ok := CommonRate(res, lru, off)
	cells := Cells(res)
	cl, _ := findCell(cells, heavy, results.PolicyLRU)
	co, _ := findCell(cells, heavy, results.PolicyOff)
	peaks := fmt.Sprintf("; sustained throughput LRU %s/s, cache off %s/s", RateEstimate(cl.Sustained), RateEstimate(co.Sustained))
	if !ok {
		c.Detail = "no rate that every run of both served unsaturated" + peaks
		return c, true
	}
	p50 := func(st results.Step) float64 { return millis(st.Reads.P50) }
	p99 := func(st results.Step) float64 { return millis(st.Reads.P99) }
	at := func(cell results.Cell, q func(results.Step) float64) map[int]float64 {
		return PerRun(res, cell, func(s results.Series) (float64, bool) {
			st, ok := StepAt(s, rate)
			return q(st), ok
		})
	}
	d50, d99 := PairedDiff(at(lru, p50), at(off, p50)), PairedDiff(at(lru, p99), at(off, p99))
	c.Detail = fmt.Sprintf("read p50 at %.0f/s: LRU %s ms, cache off %s ms; read p99: LRU %s ms, cache off %s ms",
		rate, MsEstimate(AtRate(res, lru, rate, p50)), MsEstimate(AtRate(res, off, rate, p50)),
		MsEstimate(AtRate(res, lru, rate, p99)), MsEstimate(AtRate(res, off, rate, p99))) + peaks
	if why := noInterval(d50); why != "" {
		c.Detail += "; " + why
		return c, true
	}
	c.Detail += fmt.Sprintf("; cache off − LRU by run: p50 %s ms, p99 %s ms (%s)", MsEstimate(d50), MsEstimate(d99), pairedCaption(d50))
	a, b := interval.Sign(d50), interval.Sign(d99)
	switch {
	case a == 1 && b == 1:
		c.Outcome = Pass
	case a == -1 && b == -1:
		c.Outcome = Fail
	case a == 0 && b == 0:
		c.Outcome = Tie
		c.Detail += "; both intervals hold zero"
	default:
		c.Outcome = Mixed
	}
	return c, true
}

// ceilingCheck compares the measured hit rates with the infinite cache's on the trace sent: the
// one true bound (Belady's MIN, with objects of different sizes, is only a reference, and a
// policy may beat it). A live rate above the ceiling is not a better policy but a different
// count (see aboveBound).
func ceilingCheck(res *results.Results) (Check, bool) {
	c := Check{Name: "measured hit rates within the infinite cache's ceiling on the keys sent", Outcome: Pass}
	var above, within []string
	n := 0
	for _, mix := range res.Mixes() {
		m, ok := res.MRCOf(mix)
		if !ok {
			continue
		}
		top, ok := Ceiling(m)
		if !ok {
			continue
		}
		for _, l := range LivePoints(res, mix) {
			if !l.OK {
				continue
			}
			n++
			s := fmt.Sprintf("%s %s %s (ceiling %s; at this size %s simulated %s, MIN %s)", mix, l.Policy, PctEstimate(l.HitRate), Pct(top), l.Policy, Pct(l.Simulated), Pct(l.Belady))
			if l.HitRate.Center > top {
				if l.HitRate.OK() && l.HitRate.Lo <= top {
					s += ", though its interval reaches below"
				}
				above = append(above, s)
			} else {
				within = append(within, s)
			}
		}
	}
	if n == 0 {
		return Check{}, false
	}
	if len(above) > 0 {
		c.Outcome = Warn
		c.Detail = "above the ceiling: " + strings.Join(above, "; ") + ". Not a better policy: " + aboveBound + "."
		if len(within) > 0 {
			c.Detail += " Within: " + strings.Join(within, "; ")
		}
		return c, true
	}
	c.Detail = strings.Join(within, "; ")
	return c, true
}

// Ceiling returns the infinite cache's hit rate of m's traces: the recorded one, or for results
// written before it was, the curves' value where everything fits (equal to it by definition).
func Ceiling(m results.MRC) (float64, bool) {
	if m.Ceiling > 0 {
		return m.Ceiling, true
	}
	if n := len(m.Fractions); n > 0 && m.Fractions[n-1] >= 1 {
		if b, ok := m.Curve(results.CurveBelady); ok && len(b.HitRates) == n {
			return b.HitRates[n-1], true
		}
	}
	return 0, false
}

// pairedCaption states the coverage of a paired difference's interval: "min–max of 3 paired
// differences, 75% coverage".
func pairedCaption(d interval.Estimate) string {
	what := "interval"
	if d.Method == interval.MethodRange {
		what = "min–max"
	}
	return fmt.Sprintf("%s of %d paired differences, %s coverage", what, d.N, d.CoverageText())
}

func quietCheck(res *results.Results) Check {
	c := Check{Name: "machine quiet during the steps", Outcome: Unknown}
	var steps, heavy, measured int
	worst := 0.0
	for _, s := range res.Series {
		for _, st := range s.Steps {
			steps++
			if st.Load.OK {
				measured++
				worst = max(worst, st.Load.Outside)
			}
			if st.Load.Heavy {
				heavy++
			}
		}
	}
	switch {
	case measured == 0:
		c.Detail = "the load from other processes was not measured (needs Linux's /proc)"
	case heavy == 0:
		c.Outcome = Pass
		c.Detail = fmt.Sprintf("other processes used at most %.2f CPUs during a step (flagged above %.2f)", worst, res.Params.HeavyLoad)
	default:
		c.Outcome = Warn
		c.Detail = fmt.Sprintf("%d of %d steps ran beside more than %.2f CPUs of other work (at most %.2f): their cells' figures are marked busy", heavy, steps, res.Params.HeavyLoad, worst)
	}
	return c
}
