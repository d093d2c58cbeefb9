// Package interval estimates a median and its 95% confidence interval from a few repeated runs.
package interval

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the level of every interval this package gives.
const Confidence = 0.95

// Methods of an Estimate's interval.
const (
	// MethodNone: fewer than two values, so no interval.
	MethodNone = "none"
	// MethodOrder: the distribution-free interval between two order statistics, whose coverage
	// follows from the binomial law of how many values fall below the median. It needs at least
	// 6 values to reach 95%.
	MethodOrder = "order statistics"
	// MethodT: with 2 to 5 values no distribution-free interval reaches 95%, so the interval is
	// Student's t around the mean, which assumes roughly normal run-to-run noise (symmetric, so
	// that mean and median coincide).
	MethodT = "Student's t"
)

// Estimate is the median of some runs' values with its confidence interval.
type Estimate struct {
	N      int     `json:"n"`
	Center float64 `json:"center"` // the median
	// Lo and Hi bound the interval; both equal Center when there is none.
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	Method string  `json:"method"`
}

// Of estimates the median of xs and its 95% interval. NaN values are left out; with no value at
// all the estimate has N = 0 and a NaN center.
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
		e.Lo, e.Hi, e.Method = v[j], v[n-1-j], MethodOrder
		return e
	}
	mean, sd := stat.MeanStdDev(v, nil)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - (1-Confidence)/2)
	half := t * sd / math.Sqrt(float64(n))
	// The interval is about the mean; it always holds the median for n <= 4, and is widened to
	// hold it otherwise, so that a reader never sees a center outside its own interval.
	e.Lo, e.Hi, e.Method = min(mean-half, e.Center), max(mean+half, e.Center), MethodT
	return e
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
// 0, a hit rate never above 1): the t interval of a few runs is symmetric and can reach past
// them.
func (e Estimate) Clamp(lo, hi float64) Estimate {
	if e.N > 0 {
		e.Lo, e.Hi = min(max(e.Lo, lo), hi), min(max(e.Hi, lo), hi)
	}
	return e
}

// Paired estimates the difference b - a from runs that come in pairs (a[i] and b[i] were
// measured together: the same keys, next to each other in time), as the median of the
// differences of the pairs with its interval. Pairing takes out what both runs of a pair share,
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
// when wholly below, and 0 when they overlap or either has no interval. Disjoint 95% intervals
// are a conservative test: a difference called this way is rarely the luck of the draw.
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
// end). When both intervals cover their medians, so does this one; it has no interval unless
// both have.
func Diff(a, b Estimate) Estimate {
	d := Estimate{N: min(a.N, b.N), Center: b.Center - a.Center, Method: MethodNone}
	d.Lo, d.Hi = d.Center, d.Center
	if a.OK() && b.OK() {
		d.Lo, d.Hi = b.Lo-a.Hi, b.Hi-a.Lo
		d.Method = a.Method
		if b.Method != a.Method {
			d.Method = a.Method + " and " + b.Method
		}
	}
	return d
}
