package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Popularity distributions.
const (
	PopularityZipf    = "zipf"
	PopularityUniform = "uniform"

	// DefaultZipfS is the Zipf exponent: with s = 1.1 over 200 keys the top 10% of keys draw
	// about two thirds of the requests.
	DefaultZipfS = 1.1
)

// Popularity maps uniform draws to key indexes. Rank r is drawn with probability proportional to
// 1/(r+1)^s (s = 0 is uniform); ranks map to keys through a seeded shuffle, so the most popular
// key is not simply the first one, and its size is as random as any other's.
// A Popularity is immutable and safe for concurrent use.
type Popularity struct {
	name  string
	s     float64
	cdf   []float64 // cdf[r] = P(rank <= r); the last is exactly 1
	keyOf []int     // rank -> key index
}

// NewZipf returns a Zipf popularity of exponent s >= 0 over n keys.
func NewZipf(n int, s float64, seed uint64) (*Popularity, error) {
	if n < 1 || s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return nil, fmt.Errorf("zipf over %d keys with s = %g: %w", n, s, ErrBadConfig)
	}
	p := &Popularity{name: fmt.Sprintf("zipf(s=%g)", s), s: s, cdf: make([]float64, n)}
	var total float64
	for r := range n {
		total += math.Pow(float64(r+1), -s)
		p.cdf[r] = total
	}
	for r := range p.cdf {
		p.cdf[r] /= total
	}
	p.cdf[n-1] = 1
	p.keyOf = rand.New(rand.NewPCG(seed, 0x21bf)).Perm(n)
	return p, nil
}

// NewUniform returns a popularity that draws every one of n keys alike.
func NewUniform(n int, seed uint64) (*Popularity, error) {
	p, err := NewZipf(n, 0, seed)
	if err != nil {
		return nil, err
	}
	p.name = PopularityUniform
	return p, nil
}

// NewPopularity returns the named distribution (PopularityZipf with exponent s, or
// PopularityUniform) over n keys.
func NewPopularity(name string, n int, s float64, seed uint64) (*Popularity, error) {
	switch name {
	case PopularityZipf, "":
		return NewZipf(n, s, seed)
	case PopularityUniform:
		return NewUniform(n, seed)
	}
	return nil, fmt.Errorf("popularity %q (want %s or %s): %w", name, PopularityZipf, PopularityUniform, ErrBadConfig)
}

// String names the distribution, e.g. "zipf(s=1.1)".
func (p *Popularity) String() string { return p.name }

// N returns the number of keys.
func (p *Popularity) N() int { return len(p.cdf) }

// Rank returns the rank that the uniform draw u in [0, 1) falls on.
func (p *Popularity) Rank(u float64) int {
	r := sort.SearchFloat64s(p.cdf, u)
	// SearchFloat64s finds the first cdf >= u; a draw equal to a boundary belongs to the next rank.
	if r < len(p.cdf)-1 && p.cdf[r] == u {
		r++
	}
	return min(r, len(p.cdf)-1)
}

// Index returns the key index that the uniform draw u in [0, 1) picks.
func (p *Popularity) Index(u float64) int { return p.keyOf[p.Rank(u)] }

// KeyOfRank returns the key index of rank r (0 is the most popular).
func (p *Popularity) KeyOfRank(r int) int { return p.keyOf[r] }

// Prob returns the probability of rank r.
func (p *Popularity) Prob(r int) float64 {
	if r == 0 {
		return p.cdf[0]
	}
	return p.cdf[r] - p.cdf[r-1]
}
