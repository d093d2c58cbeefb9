package pool

import (
	"slices"
	"testing"
	"time"
)

// TestBreakerStates walks a breaker through its states on a fake clock: failures in a row eject,
// a success between them resets the count, one probe goes through per interval, a failed probe
// keeps the node out, a successful one brings it back, and a probe the caller gave up on decides
// nothing.
func TestBreakerStates(t *testing.T) {
	now := time.Unix(0, 0)
	var changes []BreakerState
	b := &breaker{ejectAfter: 3, probeEvery: time.Second, now: func() time.Time { return now },
		onChange: func(_ Member, s BreakerState) { changes = append(changes, s) }}
	call := func(o outcome) (admitted bool) {
		ok, probe := b.admit()
		if ok {
			b.record(probe, o)
		}
		return ok
	}
	state := func(want BreakerState) {
		t.Helper()
		if got, _ := b.snapshot(); got != want {
			t.Fatalf("state %v, want %v", got, want)
		}
	}
	call(failed)
	call(failed)
	call(worked) // resets
	call(failed)
	call(failed)
	state(BreakerClosed)
	call(failed)
	state(BreakerOpen)
	if call(worked) {
		t.Fatal("an ejected node was called before its probe time")
	}
	now = now.Add(time.Second)
	ok, probe := b.admit()
	if !ok || !probe {
		t.Fatalf("admit at the probe time = %v, %v; want a probe", ok, probe)
	}
	state(BreakerProbing)
	if ok, _ := b.admit(); ok {
		t.Fatal("a second call was let through while the probe is in flight")
	}
	b.record(true, failed)
	state(BreakerOpen)
	now = now.Add(time.Second)
	if !call(unknown) {
		t.Fatal("no probe a second after the failed one")
	}
	state(BreakerOpen) // the caller gave up: nothing learnt, and the next call probes again
	if !call(worked) {
		t.Fatal("no probe after one that decided nothing")
	}
	state(BreakerClosed)
	if _, ejected := b.snapshot(); ejected != 1 {
		t.Errorf("ejections %d, want 1", ejected)
	}
	// One ejection and one return, whatever the probes in between.
	if want := []BreakerState{BreakerOpen, BreakerClosed}; !slices.Equal(changes, want) {
		t.Errorf("changes told %v, want %v", changes, want)
	}
}
