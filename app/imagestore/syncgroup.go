package imagestore

import "sync"

// syncGroup lets concurrent callers share one run of a sync function (a group
// commit). A run covers a caller only if it starts after the caller arrived:
// fsync of a folder makes durable the entries changed before it began, not
// those changed while it runs. So callers arriving while a run is in flight
// wait for it, then share the next run, which one of them performs.
// The zero value is ready to use.
type syncGroup struct {
	mu      sync.Mutex
	cond    *sync.Cond
	running bool
	next    *syncCall // the run callers arriving now will share; nil if none is pending
}

// syncCall is one run of the sync function and its outcome.
type syncCall struct {
	done bool
	err  error
}

// Do returns the error of a run of fn that started after Do was called. At
// most one run is in flight at a time.
func (g *syncGroup) Do(fn func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	if g.next == nil {
		g.next = &syncCall{}
	}
	c := g.next
	for !c.done {
		if g.running || g.next != c {
			g.cond.Wait()
			continue
		}
		// Nothing in flight and c is pending: lead it. Later arrivals get a
		// new call, since this run may start before their changes.
		g.next, g.running = nil, true
		g.mu.Unlock()
		err := fn()
		g.mu.Lock()
		c.err, c.done, g.running = err, true, false
		// Wakes c's sharers and the next call's waiters, one of whom leads it.
		g.cond.Broadcast()
	}
	return c.err
}
