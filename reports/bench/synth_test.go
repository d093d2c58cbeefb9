package bench

import (
	"time"

	"imgcache/reports/results"
)

// synthRun describes one run of a cell for synth: its hit rate, its read p50 at every rate, and
// the offered rate from which it saturates.
type synthRun struct {
	hit     float64
	readP50 time.Duration
	satAt   float64
}

// synth builds results with the given runs of each cell (policy -> runs) at mix, swept from 100
// doubling to 1600, the rate just below saturation searched once.
func synth(mix results.Mix, cells map[string][]synthRun) *results.Results {
	res := &results.Results{Version: results.Version, Params: results.Params{Repeat: 1, Resolution: 0.05, HeavyLoad: 0.5, CapacityMB: 8}}
	for _, policy := range []string{results.PolicyLRU, results.PolicyRandom, results.PolicyOff} {
		for rep, r := range cells[policy] {
			res.Params.Repeat = max(res.Params.Repeat, rep+1)
			s := results.Series{Mix: mix, Policy: policy, Repeat: rep, CapacityMB: 8}
			if policy == results.PolicyOff {
				s.CapacityMB = 0
			}
			step := func(rate float64, phase string) results.Step {
				st := results.Step{Phase: phase, Offered: rate, Throughput: rate, CacheStats: true, CacheGets: 1000,
					CacheHits: int64(1000 * r.hit),
					All:       results.Latency{Requests: 100, Successes: 100, P50: r.readP50, P99: 4 * r.readP50},
					Reads:     results.Latency{Requests: 100, Successes: 100, P50: r.readP50, P99: 4 * r.readP50},
					Load:      results.Load{OK: true, CPUs: 2, Busy: 1.5, Own: 1.4, Outside: 0.1}}
				if rate >= r.satAt {
					st.Throughput = 0.8 * r.satAt
					st.Saturated, st.Reasons = true, []string{"achieved < 90% of offered"}
				}
				return st
			}
			for rate := 100.0; rate <= 1600; rate *= 2 {
				st := step(rate, results.PhaseSweep)
				s.Steps = append(s.Steps, st)
				if st.Saturated {
					s.Steps = append(s.Steps, step(0.75*rate, results.PhaseSearch))
					break
				}
			}
			res.Series = append(res.Series, s)
		}
	}
	return res
}
