package cachetrace

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GenConfig describes a synthetic trace.
type GenConfig struct {
	Keys      int     // distinct keys
	Requests  int     // rows
	Seed      uint64  // same seed, same trace
	ZipfS     float64 // popularity exponent of the keys (> 1, as math/rand's Zipf requires)
	ReadShare float64 // share of get requests
	// DeleteShare is the share of writes that are deletes rather than sets.
	DeleteShare float64
	Rate        int // requests a second, for the timestamps
	// MedianValue is the median value size; sizes are log-normal around it, spread SigmaValue.
	MedianValue int
	SigmaValue  float64
}

// Generate makes the trace of cfg: keys of Zipf popularity whose ranking drifts (every tenth of
// the trace, a few popular keys swap places with cold ones, as real popularity changes), values of
// log-normal sizes, reads and writes at the given shares, and timestamps at the given rate.
func Generate(cfg GenConfig) ([]Record, error) {
	if cfg.Keys < 2 || cfg.Requests < 1 || cfg.ZipfS <= 1 || cfg.ReadShare < 0 || cfg.ReadShare > 1 ||
		cfg.DeleteShare < 0 || cfg.DeleteShare > 1 || cfg.Rate < 1 || cfg.MedianValue < 1 || cfg.SigmaValue < 0 {
		return nil, fmt.Errorf("generate a cache trace from %+v: %w", cfg, ErrFormat)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xcac4e))
	zipf := rand.NewZipf(rng, cfg.ZipfS, 1, uint64(cfg.Keys-1))
	keys := make([]string, cfg.Keys)
	sizes := make([]int, cfg.Keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("img:%08x", rng.Uint32())
		sizes[i] = max(1, int(float64(cfg.MedianValue)*math.Exp(cfg.SigmaValue*rng.NormFloat64())))
	}
	rank := rng.Perm(cfg.Keys) // rank -> key
	out := make([]Record, 0, cfg.Requests)
	for i := range cfg.Requests {
		if i > 0 && i%max(1, cfg.Requests/10) == 0 {
			for range max(1, cfg.Keys/50) {
				a, b := rng.IntN(cfg.Keys/10+1), rng.IntN(cfg.Keys)
				rank[a], rank[b] = rank[b], rank[a]
			}
		}
		k := rank[zipf.Uint64()]
		rec := Record{Time: int64(i / cfg.Rate), Key: keys[k], KeySize: len(keys[k]), ValueSize: sizes[k],
			Client: fmt.Sprint(1 + rng.IntN(8)), Op: Get}
		if rng.Float64() >= cfg.ReadShare {
			rec.Op, rec.TTL = Set, 3600
			if rng.Float64() < cfg.DeleteShare {
				rec.Op, rec.ValueSize, rec.TTL = Delete, 0, 0
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// Small returns the configuration of the trace committed as loadgen/testdata/trace-small.csv,
// which scripts/gentrace writes: 300 images of about 40 KB, read nine times in ten.
func Small() GenConfig {
	return GenConfig{
		Keys: 300, Requests: 6000, Seed: 1, ZipfS: 1.2, ReadShare: 0.9, DeleteShare: 0.1,
		Rate: 500, MedianValue: 40_000, SigmaValue: 0.6,
	}
}
