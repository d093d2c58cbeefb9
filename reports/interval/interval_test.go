package interval

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name           string
		xs             []float64
		center, lo, hi float64
		method         string
		coverage       float64
	}{
		{"none", nil, math.NaN(), math.NaN(), math.NaN(), MethodNone, 0},
		{"one run", []float64{7}, 7, 7, 7, MethodNone, 0},
		{"NaN left out", []float64{math.NaN(), 7}, 7, 7, 7, MethodNone, 0},
		{"two runs: 50%", []float64{7, 9}, 8, 7, 9, MethodRange, 0.5},
		// Never below the runs: a throughput's interval cannot reach under 0.
		{"five runs", []float64{0.1, 0.2, 50, 51, 52}, 50, 0.1, 52, MethodRange, 0.9375},
		// Three runs: min to max, 75%.
		{"three runs: min–max", []float64{3, 1, 2}, 2, 1, 3, MethodRange, 0.75},
		{"even count: middle pair", []float64{1, 2, 4, 5}, 3, 1, 5, MethodRange, 0.875},
		// Six runs: min..max covers the median with 1 - 2/64 = 96.9%.
		{"six runs: min to max", []float64{6, 1, 5, 2, 4, 3}, 3.5, 1, 6, MethodOrder, 1 - 2.0/64},
		// Nine runs: the 2nd smallest to the 2nd largest covers it with 1 - 2*10/512 = 96.1%;
		// the 3rd to the 3rd would be 82%.
		{"nine runs", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, 5, 2, 8, MethodOrder, 1 - 20.0/512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Of(tc.xs)
			if tc.method == MethodNone && len(tc.xs) == 0 {
				if e.N != 0 || !math.IsNaN(e.Center) || e.OK() {
					t.Errorf("Of(nil) = %+v, want N 0, NaN center, no interval", e)
				}
				return
			}
			if !near(e.Center, tc.center) || !near(e.Lo, tc.lo) || !near(e.Hi, tc.hi) || e.Method != tc.method || !near(e.Coverage, tc.coverage) {
				t.Errorf("Of(%v) = %+v; want center %g in [%g, %g] by %s, coverage %g", tc.xs, e, tc.center, tc.lo, tc.hi, tc.method, tc.coverage)
			}
		})
	}
}

// The interval always holds its own center, and never reaches past the runs.
func TestOfHoldsCenter(t *testing.T) {
	e := Of([]float64{0, 0, 0, 0, 100})
	if e.Lo > e.Center || e.Hi < e.Center || e.Lo < 0 || e.Hi > 100 {
		t.Errorf("Of = %+v: center outside the interval, or the interval past the runs", e)
	}
}

// The order-statistic ranks: the coverage of each interval chosen is at least 95%, and the next
// narrower one falls short.
func TestOrderRank(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want int
		ok   bool
	}{{2, 0, false}, {5, 0, false}, {6, 0, true}, {8, 0, true}, {9, 1, true}, {20, 5, true}} {
		j, ok := orderRank(tc.n)
		if j != tc.want || ok != tc.ok {
			t.Errorf("orderRank(%d) = %d, %v; want %d, %v", tc.n, j, ok, tc.want, tc.ok)
		}
	}
}

func TestOrder(t *testing.T) {
	lo := Of([]float64{10, 11, 12})
	hi := Of([]float64{20, 21, 22})
	wide := Of([]float64{5, 15, 25})
	one := Of([]float64{100})
	for _, tc := range []struct {
		name string
		a, b Estimate
		want int
	}{
		{"above", hi, lo, 1},
		{"below", lo, hi, -1},
		{"overlapping", wide, lo, 0},
		{"no interval", one, lo, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Order(tc.a, tc.b); got != tc.want {
				t.Errorf("Order(%+v, %+v) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	a := Estimate{N: 3, Center: 10, Lo: 9, Hi: 12, Method: MethodRange, Coverage: 0.75}
	b := Estimate{N: 3, Center: 15, Lo: 14, Hi: 17, Method: MethodRange, Coverage: 0.75}
	d := Diff(a, b)
	if d.Center != 5 || d.Lo != 2 || d.Hi != 8 || !d.OK() || !near(d.Coverage, 0.5) {
		t.Errorf("Diff = %+v, want 5 in [2, 8], coverage 50%%", d)
	}
	if d := Diff(Of([]float64{10}), b); d.OK() || d.Center != 5 {
		t.Errorf("Diff with one run = %+v, want 5 without an interval", d)
	}
}

func TestClamp(t *testing.T) {
	e := Estimate{N: 2, Center: 0.1, Lo: -0.3, Hi: 0.5, Method: MethodDiff}.Clamp(0, 0.4)
	if e.Lo != 0 || e.Hi != 0.4 || e.Center != 0.1 || !e.Clipped {
		t.Errorf("Clamp = %+v, want [0, 0.4] around 0.1, marked clipped", e)
	}
	if e := Of([]float64{1, 2, 3}).Clamp(0, 10); e.Clipped {
		t.Errorf("Clamp inside the range = %+v, marked clipped", e)
	}
}

// Pairing takes out what the two runs of a pair share: here each pair shares a large offset,
// which swamps the difference in the intervals of a and b apart, but not in the pairs'.
func TestPaired(t *testing.T) {
	a := []float64{10, 20, 30}
	b := []float64{11, 21.2, 30.9}
	if got := Order(Of(b), Of(a)); got != 0 {
		t.Fatalf("Order of the unpaired intervals = %d, want an overlap (0)", got)
	}
	d := Paired(a, b)
	if d.N != 3 || Sign(d) != 1 || math.Abs(d.Center-1) > 1e-9 || d.CoverageText() != "75%" {
		t.Errorf("Paired = %+v, sign %d; want a difference of 1 above 0", d, Sign(d))
	}
	if Sign(Paired(a, []float64{9, 21, 30})) != 0 {
		t.Error("differences either side of 0: Sign must not call one")
	}
	if Sign(Paired([]float64{1}, []float64{5})) != 0 {
		t.Error("one pair: no interval, so no call")
	}
}

func TestFor(t *testing.T) {
	for n := 1; n <= 12; n++ {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(i)
		}
		e := Of(xs)
		if m, c := For(n); m != e.Method || !near(c, e.Coverage) {
			t.Errorf("For(%d) = %s, %g; Of gives %s, %g", n, m, c, e.Method, e.Coverage)
		}
	}
	if got, want := Caption(3), "min–max of the 3 runs, which holds the median with 75% coverage"; got != want {
		t.Errorf("Caption(3) = %q, want %q", got, want)
	}
}
