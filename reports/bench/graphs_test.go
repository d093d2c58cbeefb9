package bench

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/plot/font"

	"imgcache/loadgen"
	"imgcache/reports"
)

func benchFixture(t testing.TB) *loadgen.Results {
	t.Helper()
	res, err := loadgen.ReadResults("testdata/bench_results.json")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func benchLineNames(g BenchGraph) []string {
	var names []string
	for _, l := range g.Lines {
		names = append(names, l.Name)
	}
	return names
}

func TestBenchGraphs(t *testing.T) {
	res := benchFixture(t)
	graphs := BenchGraphs(res)
	wantFiles := []string{
		"latency-20-80.png", "throughput-20-80.png",
		"latency-50-50.png", "throughput-50-50.png",
		"latency-80-20.png", "throughput-80-20.png",
	}
	var files []string
	for _, g := range graphs {
		files = append(files, g.File)
	}
	if !slices.Equal(files, wantFiles) {
		t.Fatalf("graph files %q, want %q", files, wantFiles)
	}
	wantLatency := []string{"LRU p50", "LRU p99", "Random p50", "Random p99", "cache off p50", "cache off p99"}
	wantThroughput := []string{"LRU", "Random", "cache off", "ideal (y = x)"}
	for _, g := range graphs {
		want := wantLatency
		if g.Kind == BenchThroughput {
			want = wantThroughput
		}
		if got := benchLineNames(g); !slices.Equal(got, want) {
			t.Errorf("%s: lines %q, want %q", g.File, got, want)
		}
		for _, s := range []string{g.Mix.String(), "200 images", "cache 8 MB"} {
			if !bytes.Contains([]byte(g.Title), []byte(s)) {
				t.Errorf("%s: title %q does not name %q", g.File, g.Title, s)
			}
		}
		if g.XLabel == "" || g.YLabel == "" || !bytes.Contains([]byte(g.XLabel+g.YLabel), []byte("/s")) {
			t.Errorf("%s: axis labels %q, %q lack units", g.File, g.XLabel, g.YLabel)
		}
	}

	// The points are the fixture's: 80:20 Random saturates at its sixth step (1600/s).
	thr := graphs[5].Lines[1]
	wantThr := []BenchPoint{{50, 49.9}, {100, 99.8}, {200, 199.6}, {400, 399.2}, {800, 798.4}, {1600, 1040}}
	if !benchPointsNear(thr.Points, wantThr) {
		t.Errorf("80:20 Random throughput points %v, want %v", thr.Points, wantThr)
	}
	lat := graphs[4].Lines[5] // cache off p99
	if lat.Kind != BenchLineP99 || lat.Policy != loadgen.PolicyOff {
		t.Fatalf("line 5 of 80:20 latency is %s %s, want off p99", lat.Policy, lat.Kind)
	}
	wantLat := []BenchPoint{{50, 9.2}, {100, 9.2 * 1.15}, {200, 9.2 * 1.3}, {400, 9.2 * 1.45}, {800, 9.2 * 1.6}, {1600, 1800}}
	if !benchPointsNear(lat.Points, wantLat) {
		t.Errorf("80:20 cache-off p99 points %v, want %v", lat.Points, wantLat)
	}
	ideal := graphs[1].Lines[3]
	if want := []BenchPoint{{50, 50}, {800, 800}}; !benchPointsNear(ideal.Points, want) {
		t.Errorf("20:80 ideal line %v, want %v", ideal.Points, want)
	}
	if want := []float64{50, 100, 200, 400, 800}; !slices.Equal(graphs[0].XTicks, want) {
		t.Errorf("20:80 x ticks %v, want the offered rates %v", graphs[0].XTicks, want)
	}
}

func benchPointsNear(got, want []BenchPoint) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i].X-want[i].X) > 1e-6 || math.Abs(got[i].Y-want[i].Y) > 1e-3*math.Max(1, want[i].Y) {
			return false
		}
	}
	return true
}

// Steps without responses have no latency to draw on a log scale; they are left out, not zero.
func TestBenchGraphsSkipEmpty(t *testing.T) {
	res := &loadgen.Results{Series: []loadgen.Series{{
		Mix: loadgen.Mix{Reads: 1, Writes: 1}, Policy: loadgen.PolicyLRU,
		Steps: []loadgen.Step{
			{Offered: 10, Throughput: 10, All: loadgen.Latency{Requests: 70, P50: time.Millisecond, P99: 2 * time.Millisecond}},
			{Offered: 20}, // nothing answered
		},
	}}}
	g := BenchGraphs(res)
	if len(g) != 2 || len(g[0].Lines[0].Points) != 1 || len(g[1].Lines[0].Points) != 1 {
		t.Fatalf("graphs %+v: want one point a line", g)
	}
	for _, gr := range g {
		var buf bytes.Buffer
		if err := WriteBenchGraph(&buf, gr); err != nil {
			t.Errorf("WriteBenchGraph(%s): %v", gr.File, err)
		}
	}
	// A graph with nothing at all still renders.
	var buf bytes.Buffer
	if err := WriteBenchGraph(&buf, BenchGraph{Kind: BenchLatency, File: "empty.png", Title: "empty"}); err != nil {
		t.Errorf("WriteBenchGraph(empty): %v", err)
	}
}

func TestWriteBenchGraph(t *testing.T) {
	res := benchFixture(t)
	for _, g := range BenchGraphs(res) {
		t.Run(g.File, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteBenchGraph(&buf, g); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 500 {
				t.Errorf("size %dx%d, want 800x500", b.Dx(), b.Dy())
			}
			// Each policy's colour is drawn. The fixture's throughput lines coincide, where
			// the widest (LRU, drawn first) and the last (cache off) must still show.
			policies := []string{loadgen.PolicyLRU, loadgen.PolicyRandom, loadgen.PolicyOff}
			if g.Kind == BenchThroughput {
				policies = []string{loadgen.PolicyLRU, loadgen.PolicyOff}
			}
			for _, p := range policies {
				if n := benchCountColor(img, benchColor(p)); n < 150 {
					t.Errorf("%d pixels of %s's colour, want a line's worth", n, p)
				}
			}
		})
	}
}

// benchCountColor counts the pixels within a small distance of c (anti-aliasing blends edges).
func benchCountColor(img image.Image, c color.Color) int {
	cr, cg, cb, _ := c.RGBA()
	near := func(a uint8, b uint32) bool { return max(uint32(a), b>>8)-min(uint32(a), b>>8) < 24 }
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(img.Bounds())
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	}
	n := 0
	for i := 0; i+3 < len(rgba.Pix); i += 4 {
		if near(rgba.Pix[i], cr) && near(rgba.Pix[i+1], cg) && near(rgba.Pix[i+2], cb) {
			n++
		}
	}
	return n
}

func TestBenchLogTicks(t *testing.T) {
	var labels []string
	var minor int
	for _, tk := range (benchLogTicks{}).Ticks(3, 250) {
		if tk.Value < 3 || tk.Value > 250 {
			t.Errorf("tick %g outside 3..250", tk.Value)
		}
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		} else {
			minor++
		}
	}
	if want := []string{"5", "10", "20", "50", "100", "200"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if minor == 0 {
		t.Error("no minor ticks")
	}
}

func BenchmarkWriteBenchGraph(b *testing.B) {
	g := BenchGraphs(benchFixture(b))[4]
	for b.Loop() {
		if err := WriteBenchGraph(&bytes.Buffer{}, g); err != nil {
			b.Fatal(err)
		}
	}
}

// Every graph starts from reports.NewPlot, so all its text is in the shared typeface.
func TestGraphUsesSans(t *testing.T) {
	p, err := benchPlot(BenchGraph{Title: "t", XLabel: "x", YLabel: "y"}) // no lines: the note path
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]font.Font{"title": p.Title.TextStyle.Font, "legend": p.Legend.TextStyle.Font,
		"x label": p.X.Label.TextStyle.Font, "y ticks": p.Y.Tick.Label.Font} {
		if f.Variant != reports.Sans {
			t.Errorf("%s font variant = %q, want %q", name, f.Variant, reports.Sans)
		}
	}
}
