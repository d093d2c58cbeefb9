package verify

import (
	"time"
)

// Versions a read can get besides the uploaded ones.
const (
	gotAbsent  = -1 // 404: the key is not stored
	gotOther   = -2 // content that is no version's base64: other bytes, or not base64 at all
	gotInvalid = -3 // no content string
)

// write is one upload (or deletion) of a key, as its result reported it.
type write struct {
	version int       // the version it stores; gotAbsent for a deletion
	sent    time.Time // vegeta's timestamp: before the request left
	acked   time.Time // when its answer was read; zero when it failed (it may or may not have landed)
}

func (w write) ok() bool { return !w.acked.IsZero() }

// read is a read whose answer is known but not yet judged: writes sent before it was done may
// still be on their way.
type read struct {
	key        int
	got        int
	sent, done time.Time
}

// history is what a key has been written, pruned of writes no later read can observe.
type history []write

// overwritten returns the latest start of an acknowledged write acked before t: every write acked
// before that start was overwritten before t, and no read sent at t may return it. It returns the
// write too, and false when none was acked before t.
func (h history) overwritten(t time.Time) (time.Time, int, bool) {
	var latest time.Time
	at, ok := -1, false
	for i, w := range h {
		if w.ok() && w.acked.Before(t) && (!ok || w.sent.After(latest)) {
			latest, at, ok = w.sent, i, true
		}
	}
	return latest, at, ok
}

// allows reports whether r may return version got: some write of got was sent before r was done,
// and no acknowledged write began after it was acknowledged and was acknowledged before r was
// sent. A write that failed may have landed at any time after it was sent.
func (h history) allows(got int, sent, done time.Time) bool {
	floor, _, any := h.overwritten(sent)
	for _, w := range h {
		if w.version != got || !w.sent.Before(done) {
			continue
		}
		if !any || !w.ok() || !w.acked.Before(floor) {
			return true
		}
	}
	return false
}

// prune drops the writes that no read sent at or after t can return: those acknowledged before
// the start of a write acknowledged before t.
func (h history) prune(t time.Time) history {
	floor, _, any := h.overwritten(t)
	if !any {
		return h
	}
	out := h[:0]
	for _, w := range h {
		if !w.ok() || !w.acked.Before(floor) {
			out = append(out, w)
		}
	}
	clear(h[len(out):])
	return out
}

// Failed writes are kept for at most this long after they were sent: one that has not landed by
// then never will (a request's timeout is seconds).
const failedKeep = time.Minute

// expire drops failed writes sent before t.
func (h history) expire(t time.Time) history {
	out := h[:0]
	for _, w := range h {
		if w.ok() || !w.sent.Before(t) {
			out = append(out, w)
		}
	}
	clear(h[len(out):])
	return out
}

// watermark tracks, over one attack's results in any order, the time before which every request
// sent has been observed: results come back in the order they finish, not the order they began.
type watermark struct {
	next  uint64               // every result of a lower sequence number has been observed
	early map[uint64]time.Time // observed results from next on: their timestamps
	upTo  time.Time            // the timestamp of result next-1: every unobserved one began at or after it
}

func (w *watermark) observe(seq uint64, ts time.Time) {
	if seq != w.next {
		if w.early == nil {
			w.early = map[uint64]time.Time{}
		}
		w.early[seq] = ts
		return
	}
	w.upTo, w.next = ts, w.next+1
	for {
		t, ok := w.early[w.next]
		if !ok {
			return
		}
		delete(w.early, w.next)
		w.upTo, w.next = t, w.next+1
	}
}
