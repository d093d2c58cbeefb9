package simulate

import (
	"cmp"
	"fmt"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"imgcache/reports"
)

// WritePNG draws rep's miss-ratio curves, one line per policy, cache size on a log scale, to a
// PNG file.
func WritePNG(file string, rep Report, unit bool) error {
	p := reports.NewPlot()
	p.Title.Text = fmt.Sprintf("Miss ratio by cache size (%d requests, %d objects)", rep.Requests, rep.Objects)
	p.X.Label.Text = "cache size (bytes)"
	if unit {
		p.X.Label.Text = "cache size (objects)"
	}
	p.Y.Label.Text = "miss ratio"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = true
	var policies []string
	for _, r := range rep.Results {
		if !slices.Contains(policies, r.Policy) {
			policies = append(policies, r.Policy)
		}
	}
	for i, pol := range policies {
		var xy plotter.XYs
		for _, r := range rep.Results {
			if r.Policy == pol && r.Size > 0 {
				xy = append(xy, plotter.XY{X: float64(r.Size), Y: r.MissRatio})
			}
		}
		slices.SortFunc(xy, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		if len(xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i)
		pts.Color = plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		p.Add(l, pts)
		p.Legend.Add(pol, l, pts)
	}
	return p.Save(6*vg.Inch, 3.75*vg.Inch, file)
}
