package app

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// batcher runs the calls of concurrent callers together, one run at a time: a call that arrives while
// a run is under way waits for it to end, and the next run takes every call that arrived meanwhile. No
// timer is involved: a call on an idle batcher runs at once, alone, and a busy one collects as many
// calls as arrive during one run. Every call of a run arrived before the run began, so the run sees
// everything that was done before any of its calls began.
type batcher[In, Out any] struct {
	run func(ins []In) []Out // len(outs) == len(ins)
	max int                  // calls per run at most

	// observe, when set, is told the size of each run before it starts.
	observe func(n int)
	// fail is the output each call of a run gets when the run panics: the panic must neither leave
	// the batcher busy for ever nor kill the process from a goroutine of the batcher's.
	fail func(err error) Out

	mu    sync.Mutex
	busy  bool // a run is under way or about to start
	queue []*batchCall[In, Out]

	drains sync.WaitGroup // the goroutines that run the queue after a caller's own run
}

type batchCall[In, Out any] struct {
	in   In
	out  Out
	done chan struct{}
}

func newBatcher[In, Out any](max int, run func([]In) []Out, fail func(error) Out) *batcher[In, Out] {
	return &batcher[In, Out]{run: run, max: max, fail: fail}
}

// do runs in with the calls of other callers and returns its output. While a run is under way it waits
// for the next one; ctx ends the wait (not the run, whose output is then dropped). The caller that finds
// the batcher idle runs the first batch itself; the batches that queue up behind it run in a goroutine
// of the batcher's, so that no caller waits for more than its own run and the one before it.
func (b *batcher[In, Out]) do(ctx context.Context, in In) (Out, error) {
	c := &batchCall[In, Out]{in: in, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead := !b.busy
	b.busy = true
	b.mu.Unlock()
	if lead {
		// One yield before the run lets the requests that are runnable now, and about to look their
		// rows up too, join it: a bounded wait, none when nothing else is runnable.
		runtime.Gosched()
		if b.runOnce() { // more calls queued behind ours
			b.drains.Add(1)
			go func() {
				defer b.drains.Done()
				for b.runOnce() {
				}
			}()
		}
	}
	select {
	case <-c.done:
		return c.out, nil
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// runOnce runs the queue's first calls, up to max, and reports whether more are queued; when none
// are, the batcher is idle again.
func (b *batcher[In, Out]) runOnce() (more bool) {
	b.mu.Lock()
	n := min(len(b.queue), b.max)
	calls := b.queue[:n:n]
	b.queue = b.queue[n:]
	if len(b.queue) == 0 {
		b.queue = nil
	}
	b.mu.Unlock()
	if n > 0 {
		ins := make([]In, n)
		for i, c := range calls {
			ins[i] = c.in
		}
		if b.observe != nil {
			b.observe(n)
		}
		outs := b.runSafely(ins)
		for i, c := range calls {
			c.out = outs[i]
			close(c.done)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.busy = false
		return false
	}
	return true
}

// wait waits for the batcher's own goroutines, which end once the queue is empty.
func (b *batcher[In, Out]) wait() { b.drains.Wait() }

// runSafely is run, turning a panic into the fail output of every call.
func (b *batcher[In, Out]) runSafely(ins []In) (outs []Out) {
	defer func() {
		if r := recover(); r != nil {
			outs = make([]Out, len(ins))
			for i := range outs {
				outs[i] = b.fail(fmt.Errorf("panic in a batch of %d: %v", len(ins), r))
			}
		}
	}()
	return b.run(ins)
}
