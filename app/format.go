package app

import (
	"strconv"
	"strings"
	"unicode"
)

// HumanSize writes a byte count in binary units, as the cache's capacity is stated (1 MB = 2^20 bytes).
func HumanSize(n int64) string {
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

// SizesApart writes two sizes as HumanSize does, or in bytes when HumanSize would round them to the
// same text: "the file is 16 MB; the limit is 16 MB" would say nothing.
func SizesApart(a, b int64) (string, string) {
	if sa, sb := HumanSize(a), HumanSize(b); sa != sb {
		return sa, sb
	}
	return ByteCount(a) + " bytes", ByteCount(b) + " bytes"
}

// ByteCount writes an exact byte count with thousands separators.
func ByteCount(n int64) string {
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

// ShownKey is a key as echoed back into a page: valid UTF-8 without control characters. The template
// escapes it; this only keeps a bad key's bytes from making the page itself malformed.
func ShownKey(key string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return unicode.ReplacementChar
		}
		return r
	}, strings.ToValidUTF8(key, "\uFFFD"))
}
