package loadgen

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestZipfSampling(t *testing.T) {
	const n, draws = 200, 200000
	for _, tc := range []struct {
		name string
		s    float64
	}{
		{"s=1.1", 1.1},
		{"s=0.8", 0.8},
		{"uniform", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewZipf(n, tc.s, 42)
			if err != nil {
				t.Fatal(err)
			}
			counts := make([]int, n)
			r := rand.New(rand.NewPCG(1, 2))
			for range draws {
				counts[p.Rank(r.Float64())]++
			}
			// The probabilities are Zipf's: proportional to 1/(rank+1)^s, summing to 1.
			var h float64
			for k := range n {
				h += math.Pow(float64(k+1), -tc.s)
			}
			var sum float64
			for k := range n {
				want := math.Pow(float64(k+1), -tc.s) / h
				if got := p.Prob(k); math.Abs(got-want) > 1e-12 {
					t.Fatalf("Prob(%d) = %g, want %g", k, got, want)
				}
				sum += p.Prob(k)
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Errorf("probabilities sum to %g, want 1", sum)
			}
			// Empirical frequencies match within 4 standard deviations at every rank.
			for k := range n {
				want := p.Prob(k)
				sd := math.Sqrt(want * (1 - want) / draws)
				if got := float64(counts[k]) / draws; math.Abs(got-want) > 4*sd+1e-4 {
					t.Errorf("rank %d drawn %.5f of the time, want %.5f", k, got, want)
				}
			}
			if tc.s > 0 && !(counts[0] > counts[1] && counts[1] > counts[9] && counts[9] > counts[n-1]) {
				t.Errorf("counts of ranks 0, 1, 9, %d = %d, %d, %d, %d: not decreasing", n-1, counts[0], counts[1], counts[9], counts[n-1])
			}
		})
	}
}

func TestZipfSkew(t *testing.T) {
	p, err := NewZipf(200, DefaultZipfS, 1)
	if err != nil {
		t.Fatal(err)
	}
	var top float64
	for k := range 20 {
		top += p.Prob(k)
	}
	// The doc comment's claim: the top 10% of keys draw about two thirds of the requests.
	if top < 0.6 || top > 0.75 {
		t.Errorf("top 20 of 200 keys draw %.2f, want about two thirds", top)
	}
}

func TestPopularityKeyOrder(t *testing.T) {
	a, _ := NewZipf(100, 1.1, 1)
	b, _ := NewZipf(100, 1.1, 1)
	c, _ := NewZipf(100, 1.1, 2)
	var ka, kb, kc []int
	for r := range 100 {
		ka, kb, kc = append(ka, a.KeyOfRank(r)), append(kb, b.KeyOfRank(r)), append(kc, c.KeyOfRank(r))
	}
	if !slices.Equal(ka, kb) {
		t.Error("the same seed maps ranks to keys differently")
	}
	if slices.Equal(ka, kc) {
		t.Error("seeds 1 and 2 map ranks to keys alike")
	}
	sorted := slices.Sorted(slices.Values(ka))
	for i, k := range sorted {
		if i != k {
			t.Fatalf("ranks map to %v, not a permutation of 0..99", sorted)
		}
	}
	if slices.Equal(ka, sorted) {
		t.Error("ranks map to keys in order: not shuffled")
	}
	if got, want := a.Index(0), a.KeyOfRank(0); got != want {
		t.Errorf("Index(0) = %d, want the top rank's key %d", got, want)
	}
}

func TestPopularityRankBounds(t *testing.T) {
	p, _ := NewZipf(10, 1, 1)
	for _, tc := range []struct {
		u    float64
		want int
	}{
		{0, 0},
		{math.Nextafter(p.cdf[0], 0), 0},
		{p.cdf[0], 1},
		{math.Nextafter(1, 0), 9},
	} {
		if got := p.Rank(tc.u); got != tc.want {
			t.Errorf("Rank(%v) = %d, want %d", tc.u, got, tc.want)
		}
	}
}

func TestNewPopularity(t *testing.T) {
	for _, tc := range []struct {
		name, dist string
		n          int
		s          float64
		want       string
		err        error
	}{
		{"zipf", "zipf", 10, 1.1, "zipf(s=1.1)", nil},
		{"uniform", "uniform", 10, 1.1, "uniform", nil},
		{"unknown", "pareto", 10, 1, "", ErrBadConfig},
		{"no keys", "zipf", 0, 1, "", ErrBadConfig},
		{"negative s", "zipf", 10, -1, "", ErrBadConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPopularity(tc.dist, tc.n, tc.s, 1)
			if !errors.Is(err, tc.err) {
				t.Fatalf("NewPopularity(%q, %d, %g) error = %v, want %v", tc.dist, tc.n, tc.s, err, tc.err)
			}
			if err == nil && p.String() != tc.want {
				t.Errorf("String() = %q, want %q", p.String(), tc.want)
			}
		})
	}
}
