// Package interval estimates a median from a few repeated runs, with a distribution-free
// interval whose coverage it states.
package interval

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the coverage the order-statistics interval aims at: from 6 runs on, the
// narrowest interval between order statistics that holds the median at least this often.
const Confidence = 0.95

// Methods of an Estimate's interval.
const (
	// MethodNone: fewer than two values, so no interval.
	MethodNone = "none"
	// MethodRange: with 2 to 5 values no interval between order statistics reaches 95%, so the
	// interval is the runs' minimum to maximum, and its coverage is what it is: the median lies
	// outside only if every run falls on one side of it, so 1 - 2^(1-n) (50% for 2 runs, 75% for
	// 3, 87.5% for 4, 93.75% for 5). No assumption on the noise's shape.
	MethodRange = "min–max"
	// MethodOrder: the interval between two order statistics, whose coverage follows from the
	// binomial law of how many values fall below the median: at least 95%, from 6 values on.
	MethodOrder = "order statistics"
	// MethodDiff: every difference that two intervals allow (see Diff).
	MethodDiff = "difference of intervals"
)

// Estimate is the median of some runs' values with its interval and the interval's coverage.
type Estimate struct {
	N      int     `json:"n"`
	Center float64 `json:"center"` // the median
	// Lo and Hi bound the interval; both equal Center when there is none.
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	Method string  `json:"method"`
	// Coverage is the probability that an interval so made holds the true median (for Diff, a
	// lower bound of it); 0 without an interval.
	Coverage float64 `json:"coverage,omitempty"`
	// Clipped is set when Clamp moved an end of the interval to the quantity's range.
	Clipped bool `json:"clipped,omitempty"`
}

// Of estimates the median of xs and its interval: min–max below 6 values, order statistics
// from 6 on. NaN values are left out; with no value at all the estimate has N = 0 and a NaN
// center.
func Of(xs []float64) Estimate {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	slices.Sort(v)
	n := len(v)
	e := Estimate{N: n, Method: MethodNone}
	if n == 0 {
		e.Center, e.Lo, e.Hi = math.NaN(), math.NaN(), math.NaN()
		return e
	}
	if n%2 == 1 {
		e.Center = v[n/2]
	} else {
		e.Center = (v[n/2-1] + v[n/2]) / 2
	}
	e.Lo, e.Hi = e.Center, e.Center
	if n < 2 {
		return e
	}
	if j, ok := orderRank(n); ok {
		e.Lo, e.Hi, e.Method, e.Coverage = v[j], v[n-1-j], MethodOrder, orderCoverage(n, j)
		return e
	}
	e.Lo, e.Hi, e.Method, e.Coverage = v[0], v[n-1], MethodRange, orderCoverage(n, 0)
	return e
}

// orderCoverage is the probability that the (j+1)-th smallest to the (j+1)-th largest of n
// values hold the median of their distribution.
func orderCoverage(n, j int) float64 {
	return 1 - 2*distuv.Binomial{N: float64(n), P: 0.5}.CDF(float64(j))
}

// CoverageText formats the coverage as a whole percentage ("75%"), or with one decimal where
// that is not exact ("87.5%").
func (e Estimate) CoverageText() string {
	p := 100 * e.Coverage
	if math.Abs(p-math.Round(p)) < 0.05 {
		return fmt.Sprintf("%.0f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}

// orderRank returns the largest 0-based rank j such that the interval between the (j+1)-th
// smallest and the (j+1)-th largest of n values covers the median with at least Confidence:
// the median lies outside only if at most j values fall below it or at most j above, each with
// the binomial probability CDF(j) for n draws of one half.
func orderRank(n int) (int, bool) {
	b := distuv.Binomial{N: float64(n), P: 0.5}
	best, ok := 0, false
	for j := 0; j < n/2; j++ {
		if 1-2*b.CDF(float64(j)) < Confidence {
			break
		}
		best, ok = j, true
	}
	return best, ok
}

// Clamp limits the interval to the values the quantity can take (a throughput is never below
// 0, a hit rate never above 1), and marks the estimate Clipped when that moved an end. Intervals
// between order statistics never need it; a Diff or a hand-made estimate may.
func (e Estimate) Clamp(lo, hi float64) Estimate {
	if e.N > 0 {
		l, h := min(max(e.Lo, lo), hi), min(max(e.Hi, lo), hi)
		if l != e.Lo || h != e.Hi {
			e.Clipped = true
		}
		e.Lo, e.Hi = l, h
	}
	return e
}

// Paired estimates the difference b - a from runs that come in pairs (a[i] and b[i] were
// measured together: the same keys, next to each other in time), as the median of the
// differences of the pairs with its interval, of the coverage Of gives for that many
// differences (75% for 3 pairs). Pairing takes out what both runs of a pair share,
// so it calls smaller differences than comparing the two intervals would. Pairs with a NaN
// are left out; the extra runs of the longer slice too.
func Paired(a, b []float64) Estimate {
	d := make([]float64, 0, min(len(a), len(b)))
	for i := range min(len(a), len(b)) {
		d = append(d, b[i]-a[i])
	}
	return Of(d)
}

// Sign tells whether an estimated difference is beyond doubt: 1 when its whole interval is
// above 0, -1 when below, 0 when it holds 0 or there is no interval.
func Sign(d Estimate) int {
	switch {
	case !d.OK():
		return 0
	case d.Lo > 0:
		return 1
	case d.Hi < 0:
		return -1
	}
	return 0
}

// OK reports whether the estimate has an interval.
func (e Estimate) OK() bool { return e.Method != MethodNone && e.N >= 2 }

// Order tells whether a and b differ beyond doubt: 1 when a's interval lies wholly above b's, -1
// when wholly below, and 0 when they overlap or either has no interval. Two disjoint intervals
// of coverage ca and cb both hold their medians with probability at least ca + cb - 1, so the
// call is wrong with at most 1 - that (50% for two min–max intervals of 3 runs: weak).
func Order(a, b Estimate) int {
	if !a.OK() || !b.OK() {
		return 0
	}
	switch {
	case a.Lo > b.Hi:
		return 1
	case a.Hi < b.Lo:
		return -1
	}
	return 0
}

// Diff estimates b - a: the difference of the medians, and an interval holding every difference
// that both intervals allow (from b's low end minus a's high end to b's high end minus a's low
// end). It holds the true difference whenever both intervals hold their medians, which happens
// with probability at least a's coverage plus b's minus 1 (Bonferroni: no assumption that the
// two are independent), the coverage it states. It has no interval unless both have.
func Diff(a, b Estimate) Estimate {
	d := Estimate{N: min(a.N, b.N), Center: b.Center - a.Center, Method: MethodNone}
	d.Lo, d.Hi = d.Center, d.Center
	if a.OK() && b.OK() {
		d.Lo, d.Hi = b.Lo-a.Hi, b.Hi-a.Lo
		d.Method = MethodDiff
		d.Coverage = max(0, a.Coverage+b.Coverage-1)
		d.Clipped = a.Clipped || b.Clipped
	}
	return d
}

// For returns the method and coverage Of gives n values, for captions written before the
// values are at hand.
func For(n int) (method string, coverage float64) {
	switch {
	case n < 2:
		return MethodNone, 0
	case n < 6:
		return MethodRange, orderCoverage(n, 0)
	}
	j, _ := orderRank(n)
	return MethodOrder, orderCoverage(n, j)
}

// Caption describes the interval of n runs for people: "min–max of the 3 runs, which holds the
// median with 75% coverage".
func Caption(n int) string {
	m, c := For(n)
	e := Estimate{Coverage: c}
	switch m {
	case MethodNone:
		return "no interval (one run)"
	case MethodRange:
		return fmt.Sprintf("min–max of the %d runs, which holds the median with %s coverage", n, e.CoverageText())
	}
	return fmt.Sprintf("order statistics of the %d runs, which hold the median with %s coverage", n, e.CoverageText())
}
