package reports

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Sans is the typeface of every chart's text: gonum's default is a serif face, which reads poorly at
// the small sizes of tick labels and next to the pages' sans-serif text. Liberation Sans comes
// embedded with gonum/plot, so no system font is needed.
const Sans font.Variant = "Sans"

// NewPlot is plot.New with all its text in sans. It sets each plot's own styles rather than
// plot.DefaultFont, which is shared by every user of the package.
func NewPlot() *plot.Plot {
	p := plot.New()
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.Legend.TextStyle.Font,
		&p.X.Label.TextStyle.Font, &p.X.Tick.Label.Font, &p.Y.Label.TextStyle.Font, &p.Y.Tick.Label.Font} {
		f.Variant = Sans
	}
	return p
}

// AddNote writes text in grey in the middle of the data area; call it once the axis ranges are set.
func AddNote(p *plot.Plot, text string) error {
	xy := plotter.XYs{{X: (p.X.Min + p.X.Max) / 2, Y: (p.Y.Min + p.Y.Max) / 2}}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: []string{text}})
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
		l.TextStyle[i].Color = color.Gray{Y: 0x70}
		l.TextStyle[i].Font.Size = vg.Points(14)
		l.TextStyle[i].Font.Variant = Sans
	}
	p.Add(l)
	return nil
}
