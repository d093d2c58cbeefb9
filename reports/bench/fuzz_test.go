package bench

import (
	"encoding/json"
	"io"
	"testing"

	"imgcache/reports/results"
)

// FuzzReport feeds arbitrary bytes where a results.json belongs, as loadgen report and loadgen
// compare do with files they are handed: whatever decodes must summarise, check, compare and
// render without a panic.
func FuzzReport(f *testing.F) {
	// The fixtures cut down to a few steps each: the fuzzer mutates small inputs far faster.
	for _, name := range []string{"results_v1.json", "results.json"} {
		res := fixture(f, name)
		res.Series = res.Series[:2]
		for i := range res.Series {
			res.Series[i].Steps = res.Series[i].Steps[:min(2, len(res.Series[i].Steps))]
		}
		if len(res.MRC) > 0 {
			res.MRC = res.MRC[:1]
		}
		b, err := json.Marshal(res)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":2,"series":[{"mix":"1:0","policy":"LRU","steps":[{"offered_rps":-1,"saturated":true}]}],"mrc":[{"mix":"1:0","sizes":[1],"fractions":[0.5],"curves":[{"policy":"LRU","hit_rates":[2]}]}]}`))
	f.Add([]byte(`{"version":2,"params":{"resolution":-1},"series":[{"mix":"0:1","policy":"off","steps":[{"offered_rps":1e308,"throughput_rps":1e308,"cache_stats":true,"cache_gets":-5}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := results.Decode(b)
		if err != nil {
			return
		}
		Cells(res)
		Checks(res)
		Compare(res, res, 0.1)
		p := newPage(res, Graphs(res))
		if err := executeHTML(io.Discard, "index.html.tmpl", p); err != nil {
			t.Fatalf("index.html: %v", err)
		}
	})
}
