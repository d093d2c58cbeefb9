package web

import (
	"encoding/json"
	"testing"
	"time"

	"imgcache/app/web/runs"
	"imgcache/reports/bench"
	"imgcache/reports/results"
)

// FuzzDecodeResults: no results.json panics the decoder or what the pages compute from what it
// accepts, and what it accepts is within the bounds.
func FuzzDecodeResults(f *testing.F) {
	seed := results.Results{Version: results.Version, Started: time.Unix(0, 0), Finished: time.Unix(60, 0),
		Params: results.Params{Repeat: 2, Mixes: []results.Mix{{Reads: 80, Writes: 20}}, Policies: []string{"LRU", "off"}}}
	for rep := range 2 {
		for _, p := range []string{results.PolicyLRU, results.PolicyOff} {
			seed.Series = append(seed.Series, results.Series{Mix: results.Mix{Reads: 80, Writes: 20}, Policy: p, Repeat: rep, CapacityMB: 8,
				Steps: []results.Step{
					{Offered: 100, Throughput: 99, CacheStats: true, CacheGets: 10, CacheHits: 4, Reads: results.Latency{Requests: 80, P99: time.Millisecond}},
					{Offered: 200, Throughput: 120, Saturated: true, Reads: results.Latency{Requests: 100}},
					{Phase: results.PhaseSearch, Offered: 150, Throughput: 149},
				}})
		}
	}
	seed.MRC = []results.MRC{{Mix: results.Mix{Reads: 80, Writes: 20}, Sizes: []int64{1 << 20, 8 << 20}, Fractions: []float64{0.1, 0.8},
		DataBytes: 10 << 20, Curves: []results.Curve{{Policy: "LRU", HitRates: []float64{0.2, 0.5}}, {Policy: results.CurveBelady, HitRates: []float64{0.3, 0.6}}}}}
	b, err := json.Marshal(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"version": 1, "series": [{"mix": "1:0", "policy": "x", "steps": [{}]}]}`))
	f.Add([]byte(`{"version": 2, "series": [{"mix": "0:5", "steps": [{"offered_rps": -1, "saturated": true}]}], "mrc": [{"mix": "0:5"}]}`))
	f.Add([]byte(`{"version": 2, "series": [{"mix": "3:1", "repeat": -4}, {"mix": "3:1", "repeat": 9999999}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"version": 2, "params": {"repeat": -3}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := runs.Decode(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error message")
			}
			return
		}
		if err := runs.CheckShape(res); err != nil {
			t.Fatalf("accepted results outside the bounds: %v", err)
		}
		cells := bench.Cells(res)
		sum := summarizeRun(runs.Run{ID: "x"}, res, cells)
		if len(sum.Matrix.Rows) != len(res.Mixes()) {
			t.Fatalf("%d rows for %d mixes", len(sum.Matrix.Rows), len(res.Mixes()))
		}
		for _, c := range cells {
			runCellOf(c)
		}
		bench.Checks(res)
		bench.Graphs(res)
		runFacts(res)
		cmp := bench.Compare(res, res, compareThreshold)
		for _, c := range cmp.Cells {
			for _, d := range c.Deltas {
				if row := compareRowOf(c, d); row.Regression {
					t.Fatalf("a run compared with itself has a regression: %+v", row)
				}
			}
		}
	})
}
