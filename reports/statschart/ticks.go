package statschart

import (
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
)

// statsClockTicks marks a Unix-seconds axis at round clock times in UTC.
type statsClockTicks struct{}

var _ plot.Ticker = statsClockTicks{}

// Ticks implements plot.Ticker with at most about seven labelled ticks.
func (statsClockTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return nil
	}
	// Candidate distances between labelled ticks, in seconds; each divides a
	// day, so multiples of a step are round clock times.
	steps := [...]int64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if (max-min)/float64(s) <= 7 {
			step = s
			break
		}
	}
	format := "15:04:05"
	if step%60 == 0 {
		format = "15:04"
	}
	minor := step / 2
	if minor == 0 || step%2 != 0 {
		minor = step // no minor ticks
	}
	var ticks []plot.Tick
	for t := int64(math.Ceil(min/float64(minor))) * minor; float64(t) <= max; t += minor {
		tick := plot.Tick{Value: float64(t)}
		if t%step == 0 {
			tick.Label = time.Unix(t, 0).UTC().Format(format)
		}
		ticks = append(ticks, tick)
	}
	return ticks
}

// statsCountTicks labels a count axis at whole numbers: steps of 1, 2 or 5 times a power of ten, at
// most six labels.
type statsCountTicks struct{}

var _ plot.Ticker = statsCountTicks{}

// Ticks returns the ticks between lo and hi.
func (statsCountTicks) Ticks(lo, hi float64) []plot.Tick {
	if math.IsInf(hi-lo, 0) || math.IsNaN(hi-lo) {
		return nil // no step would ever be wide enough
	}
	step := 1.0
	for i := 0; (hi-lo)/step > 5; i++ {
		step *= []float64{2, 2.5, 2}[i%3] // 1, 2, 5, 10, 20, 50, ...
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}

// statsSizeTicks labels a size axis in MB at round steps: 1, 2 or 5 times a power of ten, fractions
// of a MB included for a nearly empty cache, at most six labels.
type statsSizeTicks struct{}

var _ plot.Ticker = statsSizeTicks{}

// Ticks returns the ticks between lo and hi.
func (statsSizeTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return nil
	}
	// The smallest round step that keeps to six labels: below the span's power of ten, up by 2, 5, 10.
	base := math.Pow(10, math.Floor(math.Log10(hi-lo))-1)
	step := base
	for _, f := range []float64{1, 2, 5, 10, 20, 50, 100} {
		if step = base * f; (hi-lo)/step < 6 {
			break
		}
	}
	decimals := max(0, -math.Floor(math.Log10(step)))
	unit := math.Pow(10, decimals)
	var ticks []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi*(1+1e-12); i++ {
		// Rounded to the step's decimals, so 0.30000000000000004 is labelled 0.3.
		v := math.Round(i*step*unit) / unit
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}
