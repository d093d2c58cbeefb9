package results

// Curve is a miss-ratio curve, told as hit rates: one policy's hit rate at each cache size.
type Curve struct {
	Policy string `json:"policy"` // "LRU", "Random", ... as series name them, or CurveBelady
	// HitRates are the hit rates (hits over reads) at the sizes of the MRC, in the same order.
	HitRates []float64 `json:"hit_rates"`
}

// CurveBelady names the curve of Belady's offline MIN. With objects of different sizes MIN is
// a reference, not a bound: an online policy can beat it on some traces. Ceiling is the bound.
const CurveBelady = "belady"

// MRC is the miss-ratio curves of one mix, simulated over the key trace the run sent for it.
type MRC struct {
	Mix Mix `json:"mix"`
	// Sizes are the simulated capacities in bytes, rising; Fractions the same as shares of
	// DataBytes.
	Sizes     []int64   `json:"sizes"`
	Fractions []float64 `json:"fractions"`
	DataBytes int64     `json:"data_bytes"` // what the cache holds for every key of the trace
	Curves    []Curve   `json:"curves"`
	// Ceiling is the hit rate of an infinite cache on the same traces (every read but a key's
	// first and its first after each write): the true bound of every curve at every size. Zero in
	// results written before it was recorded.
	Ceiling float64 `json:"ceiling,omitempty"`
	// Traces, Requests and Reads count what was simulated: the mix's series, each replayed from
	// an empty cache as the run cleared it before each series.
	Traces   int   `json:"traces"`
	Requests int64 `json:"requests"`
	Reads    int64 `json:"reads"`
	Keys     int   `json:"keys"` // distinct keys
	// SampleRate is 1 for an exact simulation, else the share of keys SHARDS kept.
	SampleRate float64 `json:"sample_rate"`
	// Truncated is set when a trace was longer than loadgen records; the curves cover its start.
	Truncated bool `json:"truncated,omitempty"`
}

// Curve returns the curve of policy.
func (m MRC) Curve(policy string) (Curve, bool) {
	for _, c := range m.Curves {
		if c.Policy == policy {
			return c, true
		}
	}
	return Curve{}, false
}
