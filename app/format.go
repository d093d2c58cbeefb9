package app

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// formatting

// humanSize writes a byte count in binary units, as the cache's capacity is stated (1 MB = 2^20 bytes).
func humanSize(n int64) string {
	if n < 1024 {
		if n == 1 {
			return "1 byte"
		}
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"KB", "MB", "GB", "TB"}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + " " + units[i]
}

// sizesApart writes two sizes as humanSize does, or in bytes when humanSize would round them to the
// same text: "the file is 16 MB; the limit is 16 MB" would say nothing.
func sizesApart(a, b int64) (string, string) {
	if sa, sb := humanSize(a), humanSize(b); sa != sb {
		return sa, sb
	}
	return byteCount(a) + " bytes", byteCount(b) + " bytes"
}

// byteCount writes an exact byte count with thousands separators.
func byteCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

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
