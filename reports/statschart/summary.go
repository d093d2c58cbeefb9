package statschart

import "time"

// Summary is the statistics page's current figures.
type Summary struct {
	At       time.Time     // time of the newest point; zero when there is none
	Items    int64         // items in the cache at At
	Bytes    int64         // bytes in the cache at At
	Span     time.Duration // the span the counts cover, ending at the summary's now
	Requests int64         // requests served in Span
	Hits     int64         // hits in Span
	Misses   int64         // misses in Span
}

// Summarize returns the newest gauges at or before now and the counts of the
// SummarySpan ending at now. Points need not be sorted.
func Summarize(points []Point, now time.Time) Summary {
	s := Summary{Span: SummarySpan}
	from := now.Add(-s.Span)
	found := false
	for _, p := range points {
		if p.At.After(now) {
			continue
		}
		if !found || !p.At.Before(s.At) {
			found = true
			s.At, s.Items, s.Bytes = p.At, p.Items, p.Bytes
		}
		if p.At.After(from) {
			s.Requests += max(p.Requests, 0)
			s.Hits += max(p.Hits, 0)
			s.Misses += max(p.Misses, 0)
		}
	}
	return s
}

// Lookups returns hits plus misses, the denominator of both rates.
func (s Summary) Lookups() int64 { return s.Hits + s.Misses }

// HitRate returns hits/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (s Summary) HitRate() float64 { return statsRatio(s.Hits, s.Lookups()) }

// MissRate returns misses/(hits+misses) in [0, 1], or NaN when nothing was looked up.
func (s Summary) MissRate() float64 { return statsRatio(s.Misses, s.Lookups()) }

// RequestsPerSecond returns the requests of Span divided by its length.
func (s Summary) RequestsPerSecond() float64 {
	return float64(s.Requests) / s.Span.Seconds()
}
