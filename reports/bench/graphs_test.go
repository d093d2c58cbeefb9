package bench

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/font"

	"imgcache/reports"
	"imgcache/reports/results"
)

func fixture(t testing.TB, name string) *results.Results {
	t.Helper()
	res, err := results.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func lineNames(g Graph) []string {
	var names []string
	for _, l := range g.Lines {
		names = append(names, l.Name)
	}
	return names
}

func TestGraphs(t *testing.T) {
	res := fixture(t, "results.json")
	graphs := Graphs(res)
	var files []string
	for _, g := range graphs {
		files = append(files, g.File)
	}
	want := []string{"latency-20-80.png", "throughput-20-80.png", "mrc-20-80.png", "latency-80-20.png", "throughput-80-20.png", "mrc-80-20.png"}
	if !slices.Equal(files, want) {
		t.Fatalf("graph files %q, want %q", files, want)
	}
	for _, g := range graphs {
		names := lineNames(g)
		switch g.Kind {
		case KindLatency:
			if want := []string{"LRU p50", "LRU p99", "Random p50", "Random p99", "cache off p50", "cache off p99"}; !slices.Equal(names, want) {
				t.Errorf("%s: lines %q, want %q", g.File, names, want)
			}
		case KindThroughput:
			for _, w := range []string{"LRU", "Random", "cache off", "ideal (y = x)"} {
				if !slices.Contains(names, w) {
					t.Errorf("%s: lines %q lack %q", g.File, names, w)
				}
			}
		case KindMRC:
			for _, w := range []string{"LRU (simulated)", "Random (simulated)", "Belady's MIN (offline reference)", "LRU (measured)", "Random (measured)"} {
				if !slices.Contains(names, w) {
					t.Errorf("%s: lines %q lack %q", g.File, names, w)
				}
			}
			m, _ := res.MRCOf(g.Mix)
			if n := len(g.Lines[0].Points); n != len(m.Sizes) || n < 16 {
				t.Errorf("%s: %d points a curve, want one a size, at least 16", g.File, n)
			}
		}
		if !strings.Contains(g.Title, g.Mix.String()) || g.XLabel == "" || g.YLabel == "" {
			t.Errorf("%s: title %q or labels missing", g.File, g.Title)
		}
	}
	// Three runs a cell: the sweep's points carry intervals, and saturated steps are marked.
	var withErr, saturated int
	for _, g := range graphs {
		for _, l := range g.Lines {
			for _, p := range l.Points {
				if p.HasErr {
					withErr++
					if p.Lo > p.Y || p.Hi < p.Y {
						t.Errorf("%s %s: point %g outside its interval [%g, %g]", g.File, l.Name, p.Y, p.Lo, p.Hi)
					}
				}
				if p.Saturated {
					saturated++
				}
			}
		}
	}
	if withErr == 0 || saturated == 0 {
		t.Errorf("%d points with intervals, %d saturated; want some of each", withErr, saturated)
	}
}

// Steps without responses have no latency to draw on a log scale; they are left out, not zero.
func TestGraphsSkipEmpty(t *testing.T) {
	res := &results.Results{Series: []results.Series{{
		Mix: results.Mix{Reads: 1, Writes: 1}, Policy: results.PolicyLRU,
		Steps: []results.Step{
			{Offered: 10, Throughput: 10, All: results.Latency{Requests: 70, P50: time.Millisecond, P99: 2 * time.Millisecond}},
			{Offered: 20}, // nothing answered
		},
	}}}
	g := Graphs(res)
	if len(g) != 2 || len(g[0].Lines[0].Points) != 1 || len(g[1].Lines[0].Points) != 1 {
		t.Fatalf("graphs %+v: want one point a line, no curves", g)
	}
	for _, gr := range append(g, Graph{Kind: KindLatency, File: "empty.png", Title: "empty"}) {
		if err := WriteGraph(&bytes.Buffer{}, gr); err != nil {
			t.Errorf("WriteGraph(%s): %v", gr.File, err)
		}
	}
}

func TestWriteGraph(t *testing.T) {
	for _, g := range Graphs(fixture(t, "results.json")) {
		t.Run(g.File, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteGraph(&buf, g); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 500 {
				t.Errorf("size %dx%d, want 800x500", b.Dx(), b.Dy())
			}
			for _, p := range []string{results.PolicyLRU, results.PolicyRandom} {
				if n := countColor(img, policyColor(p)); n < 100 {
					t.Errorf("%d pixels of %s's colour, want a line's worth", n, p)
				}
			}
		})
	}
}

// countColor counts the pixels within a small distance of c (anti-aliasing blends edges).
func countColor(img image.Image, c color.Color) int {
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

// Every graph has its legend in one place, and an interval reaching past the frame is cut at it
// rather than stretching the axis.
func TestPlotLayout(t *testing.T) {
	g := Graph{Kind: KindThroughput, File: "t.png", XTicks: []float64{100, 200}, Lines: []Line{{
		Name: "LRU", Policy: results.PolicyLRU, Kind: LineRate,
		Points: []GraphPoint{{X: 100, Y: 100, Lo: -5000, Hi: 1e6, HasErr: true}, {X: 200, Y: 190}},
	}}}
	for _, kind := range []string{KindLatency, KindThroughput, KindMRC} {
		g.Kind = kind
		p, err := newPlot(g)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Legend.Top || !p.Legend.Left {
			t.Errorf("%s: legend top %v, left %v; want top left on every graph", kind, p.Legend.Top, p.Legend.Left)
		}
		if kind != KindMRC && (p.Y.Min < 10 || p.Y.Max > 1e4) {
			t.Errorf("%s: y axis %g to %g, want it around the points, not the interval", kind, p.Y.Min, p.Y.Max)
		}
	}
}

// Every graph starts from reports.NewPlot, so all its text is in the shared typeface.
func TestGraphUsesSans(t *testing.T) {
	p, err := newPlot(Graph{Title: "t", XLabel: "x", YLabel: "y"}) // no lines: the note path
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

func TestLogTicks(t *testing.T) {
	var labels []string
	var minor int
	for _, tk := range (logTicks{}).Ticks(3, 250) {
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

// Every policy of the memcache has a colour of its own, and one the graphs do not know (added to
// memcache/cache later) still gets one, the same on every graph.
func TestPolicyColor(t *testing.T) {
	seen := map[color.Color]string{}
	for _, p := range []string{results.PolicyLRU, results.PolicyRandom, results.PolicySIEVE, results.PolicyS3FIFO, results.CurveBelady} {
		c := policyColor(p)
		if other, ok := seen[c]; ok {
			t.Errorf("%s and %s share the colour %v", p, other, c)
		}
		seen[c] = p
	}
	a, b := policyColor("CLOCK-Pro"), policyColor("CLOCK-Pro")
	if _, taken := seen[a]; a != b || taken {
		t.Errorf("an unknown policy's colour %v, then %v: want a stable one apart from the known policies'", a, b)
	}
}

func BenchmarkWriteGraph(b *testing.B) {
	g := Graphs(fixture(b, "results.json"))[2]
	for b.Loop() {
		if err := WriteGraph(&bytes.Buffer{}, g); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLinearTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 28, []string{"0", "5", "10", "15", "20", "25"}},
		{0, 100, []string{"0", "20", "40", "60", "80", "100"}},
		{0, 10, []string{"0", "2", "4", "6", "8", "10"}},
	} {
		var labels []string
		for _, tk := range (linearTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if !slices.Equal(labels, tc.want) {
			t.Errorf("Ticks(%g, %g) labels %q, want %q", tc.lo, tc.hi, labels, tc.want)
		}
	}
	if got := (linearTicks{}).Ticks(5, 5); got != nil {
		t.Errorf("Ticks of an empty range = %v, want none", got)
	}
}
