package web

import (
	"math"
	"strconv"
	"time"
)

// formatting

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// rate writes n/d as a percentage, or none when d is zero.
func rate(n, d uint64, none string) string {
	if d == 0 {
		return none
	}
	return percent(float64(n)/float64(d), none)
}

// percent writes a ratio in [0, 1] as a percentage, or none for NaN.
func percent(r float64, none string) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return none
	}
	return strconv.FormatFloat(100*r, 'f', 1, 64) + "%"
}

func capacityText(mb int64) string {
	if mb == 0 {
		return "0 MB (caching is off)"
	}
	return strconv.FormatInt(mb, 10) + " MB"
}

// durationText writes a whole number of minutes or seconds in words.
func durationText(d time.Duration) string {
	unit, n := "second", d/time.Second
	if d%time.Minute == 0 {
		unit, n = "minute", d/time.Minute
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.FormatInt(int64(n), 10) + " " + unit
}
