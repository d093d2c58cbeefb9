package statschart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"imgcache/reports"
)

// SeriesPoint is one step of a Series: the value over the step that ends at At, or none (a gap).
type SeriesPoint struct {
	At    time.Time
	Value float64
	OK    bool
}

// Series is a chart of one quantity at fixed steps, such as the memcache pool's size and miss rate
// over the last half hour.
type Series struct {
	Title, YLabel string
	Step          time.Duration
	Points        []SeriesPoint // in time order, one per step
	// Percent draws values in [0, 1] as 0-100%; Whole puts ticks on whole numbers only (node counts).
	Percent, Whole bool
	// MaxAtLeast is the lowest top of the value axis, so a flat line does not fill the chart.
	MaxAtLeast float64
}

// seriesColor is the line's color: the statistics page's miss-rate red would mislead on a node count.
var seriesColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}

// WriteSeriesPNG draws s as a PNG of Width x Height points.
func WriteSeriesPNG(w io.Writer, s Series) error {
	p, err := plotSeries(s)
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(Width, Height, "png")
	if err != nil {
		return fmt.Errorf("draw %s: %w", s.Title, err)
	}
	_, err = wt.WriteTo(w)
	return err
}

func plotSeries(s Series) (*plot.Plot, error) {
	p := reports.NewPlot()
	p.Title.Text = s.Title
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = fmt.Sprintf("time (UTC), %v steps", s.Step)
	p.Y.Label.Text = s.YLabel
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = statsClockTicks{}
	p.X.Min, p.X.Max = 0, 1 // a chart with no steps still needs an axis to write its note on
	if len(s.Points) > 0 {
		p.X.Min, p.X.Max = statsUnix(s.Points[0].At.Add(-s.Step)), statsUnix(s.Points[len(s.Points)-1].At)
	}
	scale := 1.0
	if s.Percent {
		scale = 100
	}
	ymax, any := s.MaxAtLeast*scale, false
	var run plotter.XYs
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		line, err := plotter.NewLine(run)
		if err != nil {
			return err
		}
		line.Color, line.Width, line.StepStyle = seriesColor, vg.Points(1.5), plotter.PreStep
		p.Add(line)
		run = nil
		return nil
	}
	for _, pt := range s.Points {
		if !pt.OK || math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0) {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		v := pt.Value * scale
		if len(run) == 0 {
			run = append(run, plotter.XY{X: statsUnix(pt.At.Add(-s.Step)), Y: v})
		}
		run = append(run, plotter.XY{X: statsUnix(pt.At), Y: v})
		ymax, any = math.Max(ymax, v), true
	}
	if err := flush(); err != nil {
		return nil, err
	}
	p.Y.Min = 0
	switch {
	case s.Percent:
		p.Y.Max = 100
	default:
		p.Y.Max = math.Max(1, ymax*1.15)
	}
	if s.Whole {
		p.Y.Tick.Marker = statsCountTicks{}
	}
	if !any {
		if err := reports.AddNote(p, "no data yet"); err != nil {
			return nil, err
		}
	}
	return p, nil
}
