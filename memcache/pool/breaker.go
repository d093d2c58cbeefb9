package pool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"imgcache/memcache/wire"
)

// Defaults of the per-node circuit breaker.
const (
	// DefaultEjectAfter is how many calls in a row must fail before a node is ejected: one lost
	// packet does not eject a node, a hung one is out after a few short deadlines.
	DefaultEjectAfter = 3
	// DefaultProbeEvery is how long an ejected node waits before one call probes it again.
	DefaultProbeEvery = time.Second
)

// ErrEjected is returned (wrapped, with the node's NodeError) by a call to a node that the breaker
// has ejected: the call was not sent. It wraps wire.ErrUnavailable, so a read goes to the store.
var ErrEjected = fmt.Errorf("%w: the memcache node is ejected after failing calls", wire.ErrUnavailable)

// BreakerState is the state of a node's circuit breaker.
type BreakerState int

// The breaker's states: closed, calls go to the node; open, the node is ejected and calls fail at
// once; probing, one call is on its way to an ejected node to see whether it is back.
const (
	BreakerClosed BreakerState = iota
	BreakerOpen
	BreakerProbing
)

// String names the state as the pool page and the metric's documentation do.
func (s BreakerState) String() string {
	switch s {
	case BreakerOpen:
		return "ejected"
	case BreakerProbing:
		return "probing"
	}
	return "closed"
}

// breaker ejects a node after ejectAfter consecutive failed calls and lets one call through every
// probeEvery while it is ejected; that call's success brings the node back. A breaker is shared by
// every ring its node belongs to, so a change of members keeps its state.
type breaker struct {
	ejectAfter int
	probeEvery time.Duration
	now        func() time.Time
	onChange   func(Member, BreakerState) // nil: none
	member     Member

	mu       sync.Mutex
	state    BreakerState
	failures int       // consecutive, while closed
	openedAt time.Time // of the last ejection or failed probe
	ejected  uint64    // ejections so far
}

// admit reports whether a call may go to the node now, and whether it is the probe (whose outcome
// alone decides the node's return).
func (b *breaker) admit() (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true, false
	case BreakerOpen:
		if b.now().Sub(b.openedAt) >= b.probeEvery {
			b.state = BreakerProbing
			return true, true
		}
	}
	return false, false
}

// outcome is what a call says about its node.
type outcome int

const (
	worked  outcome = iota // an answer: a hit, a miss, a refused fill, even a bad request
	failed                 // no answer in time, or an answer that the node is unavailable
	unknown                // the caller gave up first: it says nothing of the node
)

// record takes an admitted call's outcome, and tells onChange of an ejection or a return.
func (b *breaker) record(probe bool, o outcome) {
	b.mu.Lock()
	was := b.state
	b.update(probe, o)
	now := b.state
	b.mu.Unlock()
	if b.onChange != nil && now != BreakerProbing && (now == BreakerClosed) != (was == BreakerClosed) {
		b.onChange(b.member, now)
	}
}

func (b *breaker) update(probe bool, o outcome) {
	switch {
	case o == unknown:
		if probe { // the next call probes again
			b.state = BreakerOpen
		}
	case probe && o == failed:
		b.state, b.openedAt = BreakerOpen, b.now()
	case probe:
		b.state, b.failures = BreakerClosed, 0
	case b.state != BreakerClosed:
		// A call admitted before the ejection ended after it: the probe decides.
	case o == worked:
		b.failures = 0
	default:
		b.failures++
		if b.failures >= b.ejectAfter {
			b.state, b.openedAt, b.failures = BreakerOpen, b.now(), 0
			b.ejected++
		}
	}
}

// snapshot returns the state and the ejections so far.
func (b *breaker) snapshot() (BreakerState, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.ejected
}

// outcomeOf says what err, from a call made under ctx, says of the node.
func outcomeOf(ctx context.Context, err error) outcome {
	switch {
	case err == nil || !errors.Is(err, wire.ErrUnavailable):
		return worked
	case ctx.Err() != nil:
		return unknown
	}
	return failed
}

// guard runs call on n unless n's breaker has ejected it, and records the outcome.
func guard(ctx context.Context, n *node, call func() error) error {
	ok, probe := n.breaker.admit()
	if !ok {
		return n.fail(ErrEjected)
	}
	err := call()
	n.breaker.record(probe, outcomeOf(ctx, err))
	return n.fail(err)
}

// NodeBreaker is a member's circuit breaker as it stands.
type NodeBreaker struct {
	Member    Member
	State     BreakerState
	Ejections uint64
}

// Breakers returns the state of every member's breaker by id, without calling any node.
func (p *Pool) Breakers() []NodeBreaker {
	r := p.ring.Load()
	out := make([]NodeBreaker, len(r.members))
	for i, n := range r.members {
		st, ej := n.breaker.snapshot()
		out[i] = NodeBreaker{Member: n.Member, State: st, Ejections: ej}
	}
	return out
}
