package simulate

import (
	"bufio"
	"context"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		unit bool
		want []Size
		err  bool
	}{
		{"100, 0.5,2KB,1mb,1.5GB", false, []Size{{100, false}, {0.5, true}, {2048, false}, {1 << 20, false}, {1.5 * (1 << 30), false}}, false},
		{"489,0.01", true, []Size{{489, false}, {0.01, true}}, false},
		{"1MB", true, nil, true},
		{"0", false, nil, true},
		{"-3", false, nil, true},
		{"x", false, nil, true},
		{"NaN", false, nil, true},
		{"", false, nil, true},
	} {
		got, err := ParseSizes(tc.in, tc.unit)
		if (err != nil) != tc.err {
			t.Errorf("ParseSizes(%q) error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrBadConfig) {
				t.Errorf("ParseSizes(%q) error %v, want ErrBadConfig", tc.in, err)
			}
			continue
		}
		if len(got) != len(tc.want) {
			t.Fatalf("ParseSizes(%q) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseSizes(%q)[%d] = %v, want %v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func TestParsePolicies(t *testing.T) {
	got, err := ParsePolicies("LRU, S3-FIFO,MIN")
	if err != nil || strings.Join(got, ",") != "LRU,S3-FIFO,MIN" {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"lru", "S3FIFO", "Belady", ""} {
		if _, err := ParsePolicies(bad); !errors.Is(err, ErrBadConfig) {
			t.Errorf("ParsePolicies(%q) error %v, want ErrBadConfig", bad, err)
		}
	}
}

// csvTrace reads keys separated by spaces as a unit-size trace.
func csvTrace(t *testing.T, keys string) *Trace {
	t.Helper()
	tr, err := Read(strings.NewReader(strings.ReplaceAll(keys, " ", "\n")), FormatCSV, 1)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestSmallByHand checks replays worked out by hand, with a cache of 2 objects.
func TestSmallByHand(t *testing.T) {
	// a b a c a: LRU keeps a (used last) when c comes, so the last a hits: misses a b c = 3.
	// FIFO evicts a (oldest) for c: the last a misses: 4. MIN: 3 (evict b, not used again).
	// SIEVE: a is visited when c comes, so the hand skips it and evicts b: 3.
	tr := csvTrace(t, "a b a c a")
	sim, err := New(tr, Config{UnitSize: true, Sizes: []Size{{2, false}}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{PolicyLRU: 3, PolicyFIFO: 4, PolicySIEVE: 3, PolicyMIN: 3}
	for _, r := range rep.Results {
		if w, ok := want[r.Policy]; ok && r.Misses != w {
			t.Errorf("%s: %d misses, want %d", r.Policy, r.Misses, w)
		}
		if r.Size != 2 || r.ByteMissRatio == nil || *r.ByteMissRatio != r.MissRatio || r.MissRatio != float64(r.Misses)/5 {
			t.Errorf("%s: %+v", r.Policy, r)
		}
	}
	if rep.Requests != 5 || rep.Objects != 3 {
		t.Errorf("%d requests, %d objects", rep.Requests, rep.Objects)
	}
}

// reference is one line of testdata/libcachesim.txt.
type reference struct {
	trace  string
	unit   bool
	policy string
	size   int64
	miss   float64
}

func readReferences(t *testing.T) []reference {
	t.Helper()
	f, err := os.Open("testdata/libcachesim.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []reference
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		f := strings.Fields(sc.Text())
		size, err1 := strconv.ParseInt(f[3], 10, 64)
		miss, err2 := strconv.ParseFloat(f[4], 64)
		if len(f) != 5 || err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		out = append(out, reference{f[0], f[1] == "unit", f[2], size, miss})
	}
	return out
}

// TestAgainstLibCacheSim replays the committed traces and compares the miss ratios with those
// libCacheSim's cachesim printed for them: LRU, FIFO, SIEVE and S3-FIFO (the reference's
// defaults) to its 4 decimals; MIN (with bypass) never above libCacheSim's Belady (which always
// admits) and close to it.
func TestAgainstLibCacheSim(t *testing.T) {
	refs := readReferences(t)
	if len(refs) < 40 {
		t.Fatalf("only %d reference lines", len(refs))
	}
	sims := map[string]*Sim{}
	for _, ref := range refs {
		key := ref.trace + strconv.FormatBool(ref.unit)
		sim := sims[key]
		if sim == nil {
			format := FormatOf(ref.trace)
			if format == "" {
				format = FormatCSV
			}
			tr, err := Open("testdata/"+ref.trace, format, 1)
			if err != nil {
				t.Fatal(err)
			}
			if sim, err = New(tr, Config{UnitSize: ref.unit}); err != nil {
				t.Fatal(err)
			}
			sim.PrepareMIN()
			sims[key] = sim
		}
		r, err := sim.One(context.Background(), ref.policy, ref.size)
		if err != nil {
			t.Fatal(err)
		}
		got := math.Round(r.MissRatio*1e4) / 1e4
		var ok bool
		switch ref.policy {
		case PolicyMIN:
			ok = got <= ref.miss && got >= ref.miss-0.005
		default:
			ok = got == ref.miss
		}
		if !ok {
			t.Errorf("%s %s at %d (unit %v): miss ratio %.4f, libCacheSim %.4f", ref.trace, ref.policy, ref.size, ref.unit, got, ref.miss)
		}
	}
}

func TestMINBoundsEveryPolicy(t *testing.T) {
	tr, err := Open(scanTrace, FormatCSV, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range []bool{true, false} {
		sizes, _ := ParseSizes("0.01,0.05,0.2", unit)
		sim, err := New(tr, Config{UnitSize: unit, Sizes: sizes})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := sim.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		best := map[int64]int64{}
		for _, r := range rep.Results {
			if r.Policy == PolicyMIN {
				best[r.Size] = r.Misses
			}
		}
		for _, r := range rep.Results {
			if r.Misses < best[r.Size] {
				t.Errorf("unit %v: %s misses %d at %d, fewer than MIN's %d", unit, r.Policy, r.Misses, r.Size, best[r.Size])
			}
		}
	}
}

func TestSampledEstimate(t *testing.T) {
	full, err := Open(zipfTrace, FormatOracleGeneral, 1)
	if err != nil {
		t.Fatal(err)
	}
	half, err := Open(zipfTrace, FormatOracleGeneral, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{UnitSize: true, Sizes: []Size{{1000, false}}, Policies: []string{PolicyLRU}}
	a, _ := New(full, cfg)
	b, _ := New(half, cfg)
	ra, err := a.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rb.SampleRate != 0.5 || rb.TraceRequests != ra.Requests || rb.Results[0].Size != 1000 {
		t.Errorf("sampled report %+v", rb)
	}
	if d := math.Abs(ra.Results[0].MissRatio - rb.Results[0].MissRatio); d > 0.03 {
		t.Errorf("sampled miss ratio %.4f, whole trace %.4f", rb.Results[0].MissRatio, ra.Results[0].MissRatio)
	}
}

func TestFindTargets(t *testing.T) {
	tr, err := Open(zipfTrace, FormatOracleGeneral, 1)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := New(tr, Config{UnitSize: true, Policies: []string{PolicyLRU, PolicyMIN}})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := sim.FindTargets(context.Background(), 0.6)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range ts {
		if tg.Size == 0 {
			t.Fatalf("%s: 0.6 unreached", tg.Policy)
		}
		at, _ := sim.One(context.Background(), tg.Policy, tg.Size)
		below, _ := sim.One(context.Background(), tg.Policy, int64(float64(tg.Size)*(1-2*Precision))-1)
		if 1-at.MissRatio < 0.6 || 1-below.MissRatio >= 0.6 {
			t.Errorf("%s: size %d hits %.4f, %d hits %.4f; want the first reaching 0.6", tg.Policy, tg.Size, 1-at.MissRatio, below.Size, 1-below.MissRatio)
		}
	}
	if ts[1].Size >= ts[0].Size {
		t.Errorf("MIN needs %d, LRU %d", ts[1].Size, ts[0].Size)
	}
	ts, err = sim.FindTargets(context.Background(), 0.99)
	if err != nil || ts[0].Size != 0 {
		t.Errorf("0.99 over a trace with 10%% cold misses: %+v, %v", ts, err)
	}
}
