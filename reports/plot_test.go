package reports

import (
	"testing"

	"gonum.org/v1/plot/font"
)

// Every chart builder starts from NewPlot, so all its text is in Sans.
func TestNewPlotIsSans(t *testing.T) {
	p := NewPlot()
	fonts := map[string]font.Font{"title": p.Title.TextStyle.Font, "legend": p.Legend.TextStyle.Font,
		"x label": p.X.Label.TextStyle.Font, "x ticks": p.X.Tick.Label.Font,
		"y label": p.Y.Label.TextStyle.Font, "y ticks": p.Y.Tick.Label.Font}
	for name, f := range fonts {
		if f.Variant != Sans {
			t.Errorf("%s font variant = %q, want %q", name, f.Variant, Sans)
		}
	}
}
