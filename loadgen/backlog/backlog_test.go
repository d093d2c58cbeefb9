package backlog

import (
	"math"
	"testing"
	"time"
)

// A server of capacity c requests a second, one at a time in order, offered rate requests a
// second for d: the lateness grows by (rate/c − 1)·d when rate > c, and not at all below.
func simulate(rate, capacity float64, d time.Duration) time.Duration {
	start := time.Unix(1000, 0)
	m := New(start, rate)
	free := 0.0 // when the server is next free, seconds from start
	service := 1 / capacity
	for seq := uint64(0); float64(seq) < rate*d.Seconds(); seq++ {
		due := float64(seq) / rate
		begin := math.Max(due, free)
		free = begin + service
		sent := start.Add(time.Duration(due * float64(time.Second)))
		m.Add(seq, sent, time.Duration((free-due)*float64(time.Second)))
	}
	return m.Growth()
}

func TestGrowth(t *testing.T) {
	d := 5 * time.Second
	for _, tc := range []struct {
		name           string
		rate, capacity float64
		want           time.Duration
	}{
		{"well below", 500, 1000, 0},
		{"at 10% past capacity", 1100, 1000, 500 * time.Millisecond}, // 0.1 × 5 s
		{"at twice capacity", 2000, 1000, 5 * time.Second},
	} {
		got := simulate(tc.rate, tc.capacity, d)
		if diff := got - tc.want; diff < -20*time.Millisecond || diff > 20*time.Millisecond {
			t.Errorf("%s: growth %v, want about %v", tc.name, got, tc.want)
		}
	}
	if g := New(time.Now(), 10).Growth(); g != 0 {
		t.Errorf("no requests: %v", g)
	}
}
