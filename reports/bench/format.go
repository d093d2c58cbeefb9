package bench

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"imgcache/reports/interval"
)

// Pct formats a share as a percentage with one decimal.
func Pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// withInterval formats an estimate's center and, when it has one, its interval.
func withInterval(e interval.Estimate, f func(float64) string, unit string) string {
	if e.N == 0 || math.IsNaN(e.Center) {
		return "–"
	}
	if !e.OK() {
		return f(e.Center) + unit
	}
	s := fmt.Sprintf("%s%s [%s, %s]", f(e.Center), unit, f(e.Lo), f(e.Hi))
	if e.Clipped {
		s += " (clipped)" // an end moved to the quantity's range: the interval reached past it
	}
	return s
}

// PctEstimate formats an estimate of a share: "57.0% [55.1, 58.2]".
func PctEstimate(e interval.Estimate) string {
	return withInterval(e, func(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) }, "%")
}

// RateEstimate formats an estimate of a rate in whole requests a second.
func RateEstimate(e interval.Estimate) string {
	return withInterval(e, func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }, "")
}

// MsEstimate formats an estimate in milliseconds.
func MsEstimate(e interval.Estimate) string { return withInterval(e, fmtMs, "") }

func fmtMs(ms float64) string {
	switch a := math.Abs(ms); {
	case a >= 100:
		return strconv.FormatFloat(ms, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 2, 64)
}

// benchMillis formats a duration in milliseconds for tables.
func benchMillis(d time.Duration) string { return fmtMs(millis(d)) }

func benchBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
