package reports

import (
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
)

// Every chart builder starts from newPlot, so all their text is in sans.
func TestChartsUseSans(t *testing.T) {
	buckets, err := Bucketize(statsSample(), LastStatsWindow(statsT0))
	if err != nil {
		t.Fatal(err)
	}
	stats, err := statsPlot(StatsItems, buckets)
	if err != nil {
		t.Fatal(err)
	}
	bench, err := benchPlot(BenchGraph{Title: "t", XLabel: "x", YLabel: "y"}) // no lines: the note path
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		p    *plot.Plot
	}{{"stats", stats}, {"bench", bench}} {
		t.Run(tt.name, func(t *testing.T) {
			fonts := map[string]font.Font{"title": tt.p.Title.TextStyle.Font, "legend": tt.p.Legend.TextStyle.Font,
				"x label": tt.p.X.Label.TextStyle.Font, "x ticks": tt.p.X.Tick.Label.Font,
				"y label": tt.p.Y.Label.TextStyle.Font, "y ticks": tt.p.Y.Tick.Label.Font}
			for name, f := range fonts {
				if f.Variant != sans {
					t.Errorf("%s font variant = %q, want %q", name, f.Variant, sans)
				}
			}
		})
	}
}
