// Package pool is a memcache of several nodes: each key lives on one node, chosen by consistent hashing.
package pool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"imgcache/memcache/client"
	"imgcache/memcache/wire"
)

// MaxMembers is the most nodes a pool routes to, the bound of the deployment this pool serves.
const MaxMembers = 8

// PolicyMixed is the Policy of a Stats sum whose members apply different replacement policies (for
// a moment, while a new configuration reaches them one by one).
const PolicyMixed = "mixed"

var (
	// ErrNoMembers is returned (wrapped) by every call on a pool whose set of members is empty.
	ErrNoMembers = fmt.Errorf("%w: the memcache pool has no members", wire.ErrUnavailable)
	// ErrClosed is returned (wrapped) by every call on a closed pool.
	ErrClosed = fmt.Errorf("%w: the memcache pool is closed", wire.ErrUnavailable)
)

// Member is a memcache node the pool routes to.
type Member struct {
	// ID names the node for good (its row in the node table) and places it on the ring, so a node that
	// comes back at another address owns the same keys as before.
	ID  int64
	URL string // base URL, as for client.New
}

// Options configures a Pool; zero values mean the defaults.
type Options struct {
	Node     client.Options // the client of every member: timeout, connections, secret
	Replicas int            // virtual nodes per member; DefaultReplicas when 0
	// EjectAfter is how many consecutive failed calls eject a node (DefaultEjectAfter when 0); a
	// negative value turns the breaker off. ProbeEvery is how often one call probes an ejected node
	// (DefaultProbeEvery when 0).
	EjectAfter int
	ProbeEvery time.Duration
	// OnBreaker, when set, is called when a member's breaker ejects it (BreakerOpen) or brings it
	// back (BreakerClosed), outside any lock of the pool: for a log line per change rather than
	// one per failed call.
	OnBreaker func(m Member, state BreakerState)
}

// NodeError is the failure of a call on one member. Every error of the pool that a member caused
// wraps one, so errors.As tells which node failed.
type NodeError struct {
	Member Member
	Err    error
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("memcache node %d (%s): %v", e.Member.ID, e.Member.URL, e.Err)
}

// Unwrap returns the member's error.
func (e *NodeError) Unwrap() error { return e.Err }

// Pool is a cache over a set of memcache nodes that routes each key to one of them by consistent
// hashing: gets, fills and invalidations of a key go to its owner, clear and refresh to every member,
// statistics are summed. The set can change at any time (SetMembers); a change moves only the keys
// of the members that came or went. It is safe for concurrent use and starts no goroutine that
// outlives a call.
type Pool struct {
	opts Options
	ring atomic.Pointer[ring] // read without a lock by every call; replaced whole

	mu     sync.Mutex // serialises SetMembers and Close
	closed bool
}

// New returns a pool with no members: every call fails with ErrNoMembers until SetMembers.
func New(opts Options) *Pool {
	if opts.Replicas <= 0 {
		opts.Replicas = DefaultReplicas
	}
	if opts.EjectAfter == 0 {
		opts.EjectAfter = DefaultEjectAfter
	}
	if opts.ProbeEvery <= 0 {
		opts.ProbeEvery = DefaultProbeEvery
	}
	p := &Pool{opts: opts}
	p.ring.Store(newRing(nil, opts.Replicas))
	return p
}

// node is a member with its client and its breaker. A node is shared by every ring it belongs to, so a member that
// stays keeps its connections across changes. refs counts the membership (1 while the node is in the
// current set) and the calls in flight; the client closes when it drops to 0, so a member that left
// closes once its last call has finished, and never under a call.
type node struct {
	Member
	c       *client.Client
	breaker *breaker
	refs    atomic.Int64
}

// acquire takes a reference for a call; it fails once the node has closed.
func (n *node) acquire() bool {
	for {
		r := n.refs.Load()
		if r <= 0 {
			return false
		}
		if n.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// release drops a reference, closing the client with the last one.
func (n *node) release() {
	if n.refs.Add(-1) == 0 {
		n.c.Close()
	}
}

// fail wraps a member's error with the member.
func (n *node) fail(err error) error {
	if err == nil {
		return nil
	}
	return &NodeError{Member: n.Member, Err: err}
}

// SetMembers replaces the set of members at once: calls that start after it returns route by the new
// set, calls in flight finish on the node they started on. Members that stay (same id and URL) keep
// their client; the clients of members that left close when their last call ends. It fails, changing
// nothing, on more than MaxMembers members, an id or URL given twice, or a URL client.New refuses.
func (p *Pool) SetMembers(members []Member) error {
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	if len(sorted) > MaxMembers {
		return fmt.Errorf("set memcache pool members: %d members, at most %d", len(sorted), MaxMembers)
	}
	urls := make(map[string]int64, len(sorted))
	for i, m := range sorted {
		if i > 0 && sorted[i-1].ID == m.ID {
			return fmt.Errorf("set memcache pool members: id %d given twice", m.ID)
		}
		// Two ids at one address would give one node two shares of the ring.
		if id, ok := urls[m.URL]; ok {
			return fmt.Errorf("set memcache pool members: ids %d and %d have one URL %q", id, m.ID, m.URL)
		}
		urls[m.URL] = m.ID
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("set memcache pool members: %w", ErrClosed)
	}
	old := p.ring.Load()
	if sameMembers(old.members, sorted) {
		return nil // a follower may report the same set every few seconds: keep the ring
	}
	current := make(map[int64]*node, len(old.members))
	for _, n := range old.members {
		current[n.ID] = n
	}

	nodes := make([]*node, len(sorted))
	var fresh []*node
	for i, m := range sorted {
		if n, ok := current[m.ID]; ok && n.URL == m.URL {
			nodes[i] = n
			continue
		}
		c, err := client.New(m.URL, p.opts.Node)
		if err != nil {
			for _, n := range fresh {
				n.c.Close()
			}
			return fmt.Errorf("set memcache pool members: node %d: %w", m.ID, err)
		}
		ejectAfter := p.opts.EjectAfter
		if ejectAfter < 0 {
			ejectAfter = math.MaxInt // never
		}
		n := &node{Member: m, c: c, breaker: &breaker{ejectAfter: ejectAfter, probeEvery: p.opts.ProbeEvery, now: time.Now,
			onChange: p.opts.OnBreaker, member: m}}
		n.refs.Store(1) // the membership
		nodes[i], fresh = n, append(fresh, n)
	}
	p.ring.Store(newRing(nodes, p.opts.Replicas))

	// The new ring is published before the old members let go, so a call that finds a departed node
	// closed reloads the ring and finds its new owner.
	kept := make(map[*node]bool, len(nodes))
	for _, n := range nodes {
		kept[n] = true
	}
	for _, n := range old.members {
		if !kept[n] {
			n.release()
		}
	}
	return nil
}

// sameMembers reports whether the nodes (by id) are the members (by id).
func sameMembers(nodes []*node, members []Member) bool {
	return slices.EqualFunc(nodes, members, func(n *node, m Member) bool { return n.Member == m })
}

// Members returns the current members by id.
func (p *Pool) Members() []Member {
	r := p.ring.Load()
	out := make([]Member, len(r.members))
	for i, n := range r.members {
		out[i] = n.Member
	}
	return out
}

// Owner returns the member key belongs to; ok is false when the pool has no members.
func (p *Pool) Owner(key string) (m Member, ok bool) {
	n := p.ring.Load().owner(key)
	if n == nil {
		return Member{}, false
	}
	return n.Member, true
}

// Shares returns each member's share of the hash space by id, summing to 1: the expected part of the
// keys it holds.
func (p *Pool) Shares() map[int64]float64 {
	r := p.ring.Load()
	out := make(map[int64]float64, len(r.shares))
	for id, s := range r.shares {
		out[id] = s
	}
	return out
}

// Close closes the pool: calls after it fail with ErrClosed, and each member's client closes when its
// calls in flight have finished. Calling it again does nothing.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	old := p.ring.Load()
	closed := newRing(nil, p.opts.Replicas)
	closed.err = ErrClosed
	p.ring.Store(closed)
	for _, n := range old.members {
		n.release()
	}
	return nil
}

// pick returns the owner of key with a reference for the call, which the caller releases.
func (p *Pool) pick(key string) (*node, error) {
	for {
		r := p.ring.Load()
		n := r.owner(key)
		if n == nil {
			return nil, r.err
		}
		if n.acquire() {
			return n, nil
		}
		// n left the set and closed after we loaded r; the ring that replaced r is already published.
	}
}

// all returns the current ring and every member of it with a reference for the call, which the
// caller releases.
func (p *Pool) all() (*ring, []*node, error) {
	for {
		r := p.ring.Load()
		if len(r.members) == 0 {
			return nil, nil, r.err
		}
		got := make([]*node, 0, len(r.members))
		for _, n := range r.members {
			if !n.acquire() {
				break
			}
			got = append(got, n)
		}
		if len(got) == len(r.members) {
			return r, got, nil
		}
		for _, n := range got { // a member left meanwhile: start over on the newer ring
			n.release()
		}
	}
}

// AppendGet appends the cached value of key to dst, asking the key's owner. On a miss it returns an
// error wrapping wire.ErrMiss and the owner's lease for Fill.
func (p *Pool) AppendGet(ctx context.Context, dst []byte, key string) ([]byte, wire.Lease, error) {
	n, err := p.pick(key)
	if err != nil {
		return dst, 0, fmt.Errorf("get %q: %w", key, err)
	}
	defer n.release()
	var lease wire.Lease
	err = guard(ctx, n, func() (err error) {
		dst, lease, err = n.c.AppendGet(ctx, dst, key)
		return err
	})
	return dst, lease, err
}

// Fill stores value under key on the key's owner if lease, from the miss, is still outstanding there.
//
// A lease is only good on the node that handed it out, and Fill goes to the key's owner now. Under
// one set of members that is the node of the miss. If the set changed between the miss and the fill
// and the key moved, the new owner never handed out this lease (each node starts its leases at a
// random number) and refuses the fill with wire.ErrLeaseRevoked: the key simply misses once more
// there. Refusing is the safe side: the fill may carry a value read before a write that the new owner
// has already seen.
func (p *Pool) Fill(ctx context.Context, key string, value []byte, lease wire.Lease) error {
	n, err := p.pick(key)
	if err != nil {
		return fmt.Errorf("fill %q: %w", key, err)
	}
	defer n.release()
	return guard(ctx, n, func() error { return n.c.Fill(ctx, key, value, lease) })
}

// Invalidate removes key from its owner and revokes the owner's lease of it. A copy left on a
// previous owner by a change of members is not reached; the backend's keys are object names whose
// content never changes, so such a copy can never be served stale, only evicted in time.
func (p *Pool) Invalidate(ctx context.Context, key string) error {
	n, err := p.pick(key)
	if err != nil {
		return fmt.Errorf("invalidate %q: %w", key, err)
	}
	defer n.release()
	return guard(ctx, n, func() error { return n.c.Invalidate(ctx, key) })
}

// Clear empties every member. It fails, wrapping wire.ErrUnavailable, if any member failed; the
// others are cleared all the same.
func (p *Pool) Clear(ctx context.Context) error {
	return p.everyone(ctx, "clear", (*client.Client).Clear)
}

// Refresh asks every member to apply the newest configuration. It fails, wrapping
// wire.ErrUnavailable, if any member failed; the others have applied it all the same.
func (p *Pool) Refresh(ctx context.Context) error {
	return p.everyone(ctx, "refresh configuration", (*client.Client).Refresh)
}

// everyone calls call on every member at once and joins the failures.
func (p *Pool) everyone(ctx context.Context, what string, call func(*client.Client, context.Context) error) error {
	_, nodes, err := p.all()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	errs := make([]error, len(nodes))
	fanOut(nodes, func(i int, n *node) { errs[i] = guard(ctx, n, func() error { return call(n.c, ctx) }) })
	return joinFailures(what, len(nodes), errs)
}

// fanOut runs f on every node at once, each call in its own goroutine, and returns when all have
// returned. It releases the nodes' references.
func fanOut(nodes []*node, f func(i int, n *node)) {
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			defer n.release()
			f(i, n)
		})
	}
	wg.Wait()
}

// joinFailures is nil when every entry of errs is nil, else an error saying how many of the n
// members failed, wrapping each failure and wire.ErrUnavailable: the pool as a whole did not do it.
func joinFailures(what string, n int, errs []error) error {
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed == 0 {
		return nil
	}
	err := errors.Join(errs...)
	if errors.Is(err, wire.ErrUnavailable) {
		return fmt.Errorf("%s: %d of %d memcache nodes failed: %w", what, failed, n, err)
	}
	return fmt.Errorf("%s: %w: %d of %d memcache nodes failed: %w", what, wire.ErrUnavailable, failed, n, err)
}

// NodeStat is one member's statistics, or the reason they are missing.
type NodeStat struct {
	Member Member
	Share  float64    // the member's share of the hash space
	Stats  wire.Stats // zero when Err is set
	Err    error
	// Breaker is the state of the member's circuit breaker, Ejections how often it ejected it.
	Breaker   BreakerState
	Ejections uint64
}

// NodeStats asks every member for its statistics at once and returns them by id.
func (p *Pool) NodeStats(ctx context.Context) ([]NodeStat, error) {
	r, nodes, err := p.all()
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	out := make([]NodeStat, len(nodes))
	fanOut(nodes, func(i int, n *node) {
		var st wire.Stats
		err := guard(ctx, n, func() (err error) {
			st, err = n.c.Stats(ctx)
			return err
		})
		state, ejections := n.breaker.snapshot()
		out[i] = NodeStat{Member: n.Member, Share: r.shares[n.ID], Stats: st, Err: err, Breaker: state, Ejections: ejections}
	})
	return out, nil
}

// Stats returns the sum of the members' statistics: gauges, capacities and counters added up, and
// the policy they share (PolicyMixed when they differ). When a member does not answer, the sum
// covers the others and the error, wrapping wire.ErrUnavailable and the member's NodeError, says so.
func (p *Pool) Stats(ctx context.Context) (wire.Stats, error) {
	nodes, err := p.NodeStats(ctx)
	if err != nil {
		return wire.Stats{}, err
	}
	sum := wire.Stats{Success: wire.True}
	errs := make([]error, len(nodes))
	answered := 0
	for i, ns := range nodes {
		if ns.Err != nil {
			errs[i] = ns.Err
			continue
		}
		s := ns.Stats
		sum.Add(s)
		sum.Capacity += s.Capacity
		sum.CapacityMB += s.CapacityMB
		switch {
		case answered == 0:
			sum.Policy = s.Policy
		case sum.Policy != s.Policy:
			sum.Policy = PolicyMixed
		}
		answered++
	}
	return sum, joinFailures("stats", len(nodes), errs)
}

// Health succeeds when any member answers: the pool serves, if only part of the keys.
func (p *Pool) Health(ctx context.Context) error {
	_, nodes, err := p.all()
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	// The first answer settles it; the others are told to stop waiting.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(nodes))
	fanOut(nodes, func(i int, n *node) {
		if errs[i] = guard(ctx, n, func() error { return n.c.Health(ctx) }); errs[i] == nil {
			cancel()
		}
	})
	if slices.Contains(errs, nil) {
		return nil
	}
	return joinFailures("health", len(nodes), errs)
}
