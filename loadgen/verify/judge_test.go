package verify

import (
	"testing"
	"time"
)

func TestHistoryAllows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := func(v, sent, acked int) write {
		x := write{version: v, sent: at(sent)}
		if acked >= 0 {
			x.acked = at(acked)
		}
		return x
	}
	base := w(0, 0, 0)
	for _, tc := range []struct {
		name       string
		h          history
		got        int
		sent, done int
		want       bool
	}{
		{"initial version", history{base}, 0, 10, 12, true},
		{"newest acked", history{base, w(1, 10, 20)}, 1, 30, 32, true},
		{"older than an acked upload", history{base, w(1, 10, 20)}, 0, 30, 32, false},
		{"upload acked after the read was sent: either", history{base, w(1, 10, 31)}, 0, 30, 32, true},
		{"upload in flight, read returns it", history{base, w(1, 10, 40)}, 1, 30, 32, true},
		{"upload sent after the read was done", history{base, w(1, 33, 40)}, 1, 30, 32, false},
		{"two overlapping uploads: the first", history{base, w(1, 10, 20), w(2, 12, 22)}, 1, 30, 32, true},
		{"two overlapping uploads: the second", history{base, w(1, 10, 20), w(2, 12, 22)}, 2, 30, 32, true},
		{"two uploads in turn: the first", history{base, w(1, 10, 20), w(2, 21, 25)}, 1, 30, 32, false},
		{"a version written again", history{base, w(1, 10, 20), w(2, 21, 25), w(1, 26, 28)}, 1, 30, 32, true},
		{"failed upload may have landed", history{base, w(1, 10, 20), w(2, 21, -1)}, 2, 30, 32, true},
		{"failed upload overwrites nothing", history{base, w(1, 10, 20), w(2, 21, -1)}, 1, 30, 32, true},
		{"deleted", history{base, w(gotAbsent, 10, 20)}, gotAbsent, 30, 32, true},
		{"absent before any delete", history{base}, gotAbsent, 30, 32, false},
		{"stored after a delete", history{base, w(gotAbsent, 10, 20), w(1, 21, 25)}, gotAbsent, 30, 32, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.allows(tc.got, at(tc.sent), at(tc.done)); got != tc.want {
				t.Errorf("allows v%d read %d–%d ms: got %v, want %v", tc.got, tc.sent, tc.done, got, tc.want)
			}
			// Pruning as of the read's send time changes no verdict of a read sent then or later.
			p := append(history(nil), tc.h...).prune(at(tc.sent))
			if got := p.allows(tc.got, at(tc.sent), at(tc.done)); got != tc.want {
				t.Errorf("after pruning to %d of %d writes: got %v, want %v", len(p), len(tc.h), got, tc.want)
			}
		})
	}
}

func TestHistoryPrune(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	h := history{
		{version: 0, sent: at(0), acked: at(0)},
		{version: 1, sent: at(10), acked: at(20)},
		{version: 2, sent: at(15), acked: at(25)}, // overlaps the one before; the next began after both
		{version: 1, sent: at(30), acked: at(40)},
		{version: 2, sent: at(35)},                // failed
		{version: 1, sent: at(45), acked: at(60)}, // acked after the floor
	}
	got := h.prune(at(50))
	want := []int{1, 2, 1} // the write acked at 40 (it set the floor), the failed one, the one in flight at 50
	if len(got) != len(want) {
		t.Fatalf("kept %+v, want versions %v", got, want)
	}
	for i, w := range got {
		if w.version != want[i] {
			t.Errorf("kept %+v, want versions %v", got, want)
		}
	}
	if got := got.expire(at(40)); len(got) != 2 {
		t.Errorf("expire kept %+v, want the failed write dropped", got)
	}
}

func TestWatermark(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var w watermark
	for _, tc := range []struct {
		seq  uint64
		want int // ms of upTo; -1: zero
	}{{1, -1}, {2, -1}, {0, 2}, {4, 2}, {3, 4}, {5, 5}} {
		w.observe(tc.seq, t0.Add(time.Duration(tc.seq)*time.Millisecond))
		want := time.Time{}
		if tc.want >= 0 {
			want = t0.Add(time.Duration(tc.want) * time.Millisecond)
		}
		if !w.upTo.Equal(want) {
			t.Errorf("after %d: up to %v, want %v", tc.seq, w.upTo, want)
		}
	}
	if len(w.early) != 0 {
		t.Errorf("%d early results left", len(w.early))
	}
}
