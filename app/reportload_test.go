package app

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"imgcache/reports/bench"
	"imgcache/reports/results"
)

func TestDecodeResultsProblems(t *testing.T) {
	many := func(n int, mixes bool) string {
		r := results.Results{Version: results.Version}
		for i := range n {
			mix := results.Mix{Reads: 1, Writes: 1}
			if mixes {
				mix.Reads = i + 1
			}
			r.Series = append(r.Series, results.Series{Mix: mix, Policy: results.PolicyLRU})
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "it is not valid JSON (line 1, column 1): unexpected end of JSON input"},
		{"not JSON", "<html>", "it is not valid JSON (line 1, column 1): invalid character '<' looking for beginning of value"},
		{"a syntax error on line 3", "{\n\"version\": 2,\n\"series\": [}", "it is not valid JSON (line 3, column 12): invalid character '}' looking for beginning of value"},
		{"a wrong type", "{\"version\": \"two\"}", "a value has the wrong type (line 1, column 17): cannot unmarshal string into Go struct field Results.version of type int"},
		{"an unknown version", `{"version": 3}`, "version 3, want 1 or 2"},
		{"no version", `{}`, "version 0, want 1 or 2"},
		{"a malformed mix", `{"version": 2, "series": [{"mix": "lots"}]}`, `mix "lots" (want reads:writes, e.g. 80:20)`},
		{"too many series", many(maxSeries+1, false), "it holds 1001 series; these pages read at most 1000"},
		{"too many cells", many(maxCells+1, true), "it holds 65 cells (mix and policy); these pages read at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeResults([]byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("decodeResults(%.40q) = %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}

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
		res, err := decodeResults(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error message")
			}
			return
		}
		if err := checkShape(res); err != nil {
			t.Fatalf("accepted results outside the bounds: %v", err)
		}
		cells := bench.Cells(res)
		sum := summarizeRun(benchRun{ID: "x"}, res, cells)
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

func TestLineCol(t *testing.T) {
	for _, tt := range []struct {
		in     string
		offset int64
		want   string
	}{
		{"", 0, "line 1, column 1"},
		{"abc", 2, "line 1, column 3"},
		{"a\nbc", 3, "line 2, column 2"},
		{"a\n", 2, "line 2, column 1"},
		{"ab", 99, "line 1, column 3"},
		{"ab", -5, "line 1, column 1"},
	} {
		if got := lineCol([]byte(tt.in), tt.offset); got != tt.want {
			t.Errorf("lineCol(%q, %d) = %q, want %q", tt.in, tt.offset, got, tt.want)
		}
	}
	if got := strings.Count(lineCol([]byte(strings.Repeat("\n", 10)), 10), "11"); got != 1 {
		t.Errorf("ten newlines: %q", lineCol([]byte(strings.Repeat("\n", 10)), 10))
	}
}
