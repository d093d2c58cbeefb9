package bench

import (
	"bytes"
	"image/png"
	"math"
	"testing"
	"time"

	"imgcache/reports/results"
)

// withCost gives every step of res a cost: CPU by tier proportional to its requests (backend
// 800 µs a request, memcache 100, loadgen 50, storage 200 only for policy off), storage reads per
// read of 1 - hit rate, and 3 queries per request; saturated steps cost ten times as much, so a
// test sees whether they were left out.
func withCost(res *results.Results) {
	for i := range res.Series {
		s := &res.Series[i]
		for j := range s.Steps {
			st := &s.Steps[j]
			n := int64(st.All.Requests)
			k := int64(1)
			if st.Saturated {
				k = 10
			}
			st.CPUNs = map[string]int64{"backend": k * n * 800_000, "memcache": k * n * 100_000, "loadgen": k * n * 50_000}
			if s.Policy == results.PolicyOff {
				st.CPUNs["storage"] = k * n * 200_000
			}
			hit, _ := st.HitRate()
			gets := int64(math.Round(float64(st.Reads.Requests) * (1 - hit)))
			q := 3 * n
			st.StorageGets, st.DBQueries = &gets, &q
		}
	}
}

func TestCosts(t *testing.T) {
	mix := results.Mix{Reads: 80, Writes: 20}
	ms := time.Millisecond
	res := synth(mix, map[string][]synthRun{
		results.PolicyLRU: {{0.6, ms, 800}, {0.6, ms, 800}, {0.6, ms, 800}},
		results.PolicyOff: {{0, ms, 800}, {0, ms, 800}, {0, ms, 800}},
	})
	if got := Costs(res); len(got) != 0 {
		t.Fatalf("Costs without measurements = %+v, want none", got)
	}
	withCost(res)
	costs := Costs(res)
	if len(costs) != 2 {
		t.Fatalf("%d costs, want 2", len(costs))
	}
	lru, off := costs[0], costs[1]
	if lru.Policy != results.PolicyLRU || off.Policy != results.PolicyOff {
		t.Fatalf("order %s, %s", lru.Policy, off.Policy)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !near(lru.CPU["backend"].Center, 800) || !near(lru.Total.Center, 950) || lru.CPU["backend"].Coverage != 0.75 {
		t.Errorf("LRU: backend %+v, total %+v; want 800 and 950 µs, 3 runs at 75%%", lru.CPU["backend"], lru.Total)
	}
	if _, ok := lru.CPU["storage"]; ok || lru.CostTier("storage") != "–" {
		t.Errorf("LRU has a storage tier: %+v", lru.CPU)
	}
	if !near(off.CPU["storage"].Center, 200) || !near(off.Total.Center, 1150) {
		t.Errorf("off: storage %+v, total %+v; want 200 and 1150", off.CPU["storage"], off.Total)
	}
	if !near(lru.StoragePerRead.Center, 0.4) || !near(off.StoragePerRead.Center, 1) || !near(lru.DBPerRead.Center, 3) {
		t.Errorf("per read: LRU storage %+v, off %+v, LRU db %+v; want 0.4, 1, 3", lru.StoragePerRead, off.StoragePerRead, lru.DBPerRead)
	}

	// One graph per mix, a bar per policy, drawn as a PNG.
	var cost []Graph
	for _, g := range Graphs(res) {
		if g.Kind == KindCost {
			cost = append(cost, g)
		}
	}
	if len(cost) != 1 || cost[0].File != "cost-80-20.png" || len(cost[0].Lines) != 2 {
		t.Fatalf("cost graphs %+v, want cost-80-20.png with 2 bars", cost)
	}
	var buf bytes.Buffer
	if err := WriteGraph(&buf, cost[0]); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 500 {
		t.Errorf("cost graph %v, want 800×500", b)
	}

	// A step without counters leaves the run's per-read figures out, not zero.
	res.Series[0].Steps[0].StorageGets = nil
	if c := Costs(res)[0]; c.StoragePerRead.N != 2 {
		t.Errorf("LRU storage per read over %d runs, want 2", c.StoragePerRead.N)
	}
}
