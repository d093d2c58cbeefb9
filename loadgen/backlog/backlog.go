// Package backlog tells whether a constant-rate attack fell behind: whether the work offered but
// not yet answered grew over the measured window.
package backlog

import (
	"time"

	"gonum.org/v1/gonum/stat"
)

// Meter fits, over a step's results, how late each request was answered against its place in
// the schedule: request seq of an attack at rate was due at seq/rate after the attack began, and
// it was answered at its send time plus its latency. A system that keeps up answers every request
// about equally late; one that falls behind, in the server's queues or in the attacker's unsent
// requests alike, answers each later than the one before, by (offered/capacity − 1) seconds a
// second. Not safe for concurrent use.
type Meter struct {
	start time.Time
	rate  float64
	x, y  []float64 // due time and lateness, in seconds from start
}

// New returns a meter of an attack that began at start at rate requests a second.
func New(start time.Time, rate float64) *Meter { return &Meter{start: start, rate: rate} }

// Add records request seq, sent at sent and answered (or failed) latency later.
func (m *Meter) Add(seq uint64, sent time.Time, latency time.Duration) {
	due := float64(seq) / m.rate
	done := sent.Add(latency).Sub(m.start).Seconds()
	m.x = append(m.x, due)
	m.y = append(m.y, done-due)
}

// Growth returns how much later the window's last due request was answered than its first, by a
// least-squares line through every request's lateness: the backlog the window added, in time. It
// returns 0 with fewer than two requests.
func (m *Meter) Growth() time.Duration {
	if len(m.x) < 2 {
		return 0
	}
	lo, hi := m.x[0], m.x[0]
	for _, x := range m.x {
		lo, hi = min(lo, x), max(hi, x)
	}
	if hi <= lo {
		return 0
	}
	_, slope := stat.LinearRegression(m.x, m.y, nil, false)
	return time.Duration(slope * (hi - lo) * float64(time.Second))
}
