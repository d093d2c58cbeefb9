package cache

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// paperS3FIFO is S3-FIFO for objects of one size, written plainly from the
// paper's pseudocode (Yang et al., SOSP '23, Algorithm 1) with slices and a
// map, sharing nothing with the Store: an independent reference.
//
// Where the authors' reference implementation (libCacheSim's S3FIFO.c), which
// the Store follows, departs from the pseudocode, this follows the reference,
// as marked: the queue to evict from, and a promotion leaving the main queue's
// eviction to the next eviction. The threshold is the pseudocode's "t.freq >
// 1" (2) or the paper's prose "accessed at least once" (1).
type paperS3FIFO struct {
	size, sCap, gCap int // in objects
	threshold        int
	S, M, G          []string // head first
	freq             map[string]int
}

func newPaperS3FIFO(size, threshold int) *paperS3FIFO {
	return &paperS3FIFO{
		size:      size,
		sCap:      int(float64(size) * 0.1),
		gCap:      int(float64(size) * 0.9),
		threshold: threshold,
		freq:      map[string]int{},
	}
}

// read is a request: a hit counts a use (2 bits), a miss inserts. It reports
// the hit.
func (c *paperS3FIFO) read(x string) bool {
	if slices.Contains(c.S, x) || slices.Contains(c.M, x) {
		c.freq[x] = min(c.freq[x]+1, 3)
		return true
	}
	c.insert(x)
	return false
}

func (c *paperS3FIFO) insert(x string) {
	inG := slices.Index(c.G, x)
	if inG >= 0 {
		c.G = slices.Delete(c.G, inG, inG+1)
	}
	if c.sCap < 1 {
		return // reference: nothing larger than the small queue is cached
	}
	for len(c.S)+len(c.M) >= c.size {
		c.evict()
	}
	c.freq[x] = 0
	if inG >= 0 {
		c.M = slices.Insert(c.M, 0, x)
	} else {
		c.S = slices.Insert(c.S, 0, x)
	}
}

func (c *paperS3FIFO) evict() {
	// Pseudocode: "if S.size >= 0.1 * cache size then evictS else evictM";
	// reference: the main queue unless the small queue is empty or the main
	// queue is within its share.
	if len(c.S) == 0 || len(c.M) > c.size-c.sCap {
		c.evictM()
		return
	}
	c.evictS()
}

func (c *paperS3FIFO) evictS() {
	for len(c.S) > 0 {
		t := c.S[len(c.S)-1]
		c.S = c.S[:len(c.S)-1]
		if c.freq[t] >= c.threshold {
			// Pseudocode: "insert t to M; if M is full then evictM";
			// reference: the next eviction sees the main queue over its
			// share and evicts from it.
			c.M = slices.Insert(c.M, 0, t)
			c.freq[t] = 0
			continue
		}
		if c.gCap >= 1 {
			for len(c.G) >= c.gCap {
				c.G = c.G[1:]
			}
			c.G = append(c.G, t)
		}
		delete(c.freq, t)
		return
	}
	c.evictM() // all promoted: the small queue is empty
}

func (c *paperS3FIFO) evictM() {
	for len(c.M) > 0 {
		t := c.M[len(c.M)-1]
		c.M = c.M[:len(c.M)-1]
		if c.freq[t] > 0 {
			c.M = slices.Insert(c.M, 0, t)
			c.freq[t]--
			continue
		}
		delete(c.freq, t)
		return
	}
}

// TestS3FIFOMatchesPaper replays skewed random traces through the Store and
// the plain reference, with entries of one size, and wants the same hit or
// miss at every request.
func TestS3FIFOMatchesPaper(t *testing.T) {
	for _, threshold := range []int{1, 2} {
		for _, size := range []int{5, 10, 23, 50, 120} {
			for seed := range uint64(4) {
				t.Run(fmt.Sprintf("threshold %d size %d seed %d", threshold, size, seed), func(t *testing.T) {
					s := NewStore(int64(size), S3FIFO, 1)
					s.SetUnitSize(true)
					if err := s.SetS3FIFO(S3FIFOConfig{Threshold: threshold}); err != nil {
						t.Fatal(err)
					}
					ref := newPaperS3FIFO(size, threshold)
					rng := rand.New(rand.NewPCG(seed, uint64(size)))
					keys := 3 * size
					for i := range 20000 {
						// Zipf-like popularity, with scans now and then.
						k := int(float64(keys) * math.Pow(rng.Float64(), 3))
						if i%1000 >= 900 {
							k = keys + i%1000
						}
						key := fmt.Sprintf("%04d", k)
						_, hit := s.Get(key)
						if !hit {
							_, _ = s.Put(key, nil)
						}
						if want := ref.read(key); hit != want {
							t.Fatalf("request %d of %q: hit %v, reference %v (S %q, M %q)", i, key, hit, want, ref.S, ref.M)
						}
					}
					if got, want := smallOrder(s), ref.S; !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
						t.Errorf("small queue %q, reference %q", got, want)
					}
				})
			}
		}
	}
}
