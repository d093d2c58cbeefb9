// Package livemrc estimates a memcache node's miss-ratio curve while it serves: SHARDS spatial
// sampling of its keys, at a rate that adapts to keep a bounded number of them, feeding scaled-down
// simulations of every policy at several cache sizes, in constant memory.
package livemrc

import (
	"container/heap"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"imgcache/memcache/cache"
	"imgcache/memcache/wire"
)

// Defaults of Config.
const (
	// DefaultMaxKeys bounds the sampled keys, and so the memory: each simulation holds at most
	// these keys, of at most the sampled bytes.
	DefaultMaxKeys = 4096
	// DefaultQueue is how many sampled accesses may wait for the simulations; more are dropped
	// (and counted), so the request path never waits for them.
	DefaultQueue = 4096
)

// DefaultScales are the simulated sizes, as multiples of the node's capacity: from an eighth of it
// to eight times, doubling.
func DefaultScales() []float64 { return []float64{0.125, 0.25, 0.5, 1, 2, 4, 8} }

// Config tunes a Tracker. Zero values mean the defaults.
type Config struct {
	MaxKeys  int
	Queue    int
	Scales   []float64
	Policies []cache.Policy // nil means cache.Policies()
}

type access struct {
	key  string
	size int64
	hash uint64
}

// Tracker runs the simulations in a goroutine of its own, which Close stops.
type Tracker struct {
	cfg  Config
	seed maphash.Seed
	// pending collects sampled accesses under pendingMu; the goroutine takes them in batches, woken
	// by wake once a batch is ready, so the request path rarely pays for a wake-up.
	pendingMu sync.Mutex
	pending   []access
	wake      chan struct{}
	reset     chan int64
	flush     chan chan struct{}
	done      chan struct{}
	once      sync.Once

	// sampleBelow is threshold, for the request path to read without the lock.
	sampleBelow atomic.Uint64

	mu        sync.Mutex // guards what follows, shared with Snapshot
	threshold uint64     // a key is sampled when its hash is below it
	capacity  int64
	sampled   keyHeap // sampled keys, largest hash on top
	where     map[string]int
	sims      [][]*cache.Store // by policy, scale
	// hits and weight count the sampled accesses and their hits, each weighted by the rate now
	// over the rate it was sampled at, so that every request counts alike however the rate fell.
	hits     [][]float64
	weight   float64
	accesses uint64
	dropped  atomic.Uint64 // counted on the request path, without the lock
	zero     []byte        // values are slices of it: only their lengths count
}

// New starts a Tracker for a cache of capacity bytes.
func New(capacity int64, cfg Config) *Tracker {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Scales == nil {
		cfg.Scales = DefaultScales()
	}
	if cfg.Policies == nil {
		cfg.Policies = cache.Policies()
	}
	t := &Tracker{cfg: cfg, seed: maphash.MakeSeed(), wake: make(chan struct{}, 1), reset: make(chan int64, 1),
		flush: make(chan chan struct{}), done: make(chan struct{})}
	t.resetLocked(capacity)
	go t.loop()
	return t
}

// Access records a lookup of key, whose value (with the key) takes size bytes: a hit, or the fill
// after a miss. It never blocks. A nil Tracker (the curve turned off) does nothing.
func (t *Tracker) Access(key string, size int64) {
	if t == nil {
		return
	}
	h := maphash.String(t.seed, key)
	if h >= t.sampleBelow.Load() {
		return
	}
	t.pendingMu.Lock()
	if len(t.pending) >= t.cfg.Queue {
		t.pendingMu.Unlock()
		t.dropped.Add(1)
		return
	}
	t.pending = append(t.pending, access{key: strings.Clone(key), size: size, hash: h}) // the caller's key may be a reused buffer
	full := len(t.pending) == batch
	t.pendingMu.Unlock()
	if full {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// batch is how many sampled accesses wake the simulations; fewer wait for the next batch, a
// Flush or the tick.
const batch = 64

// take returns the pending accesses and makes room for more; spare is reused.
func (t *Tracker) take(spare []access) []access {
	t.pendingMu.Lock()
	defer t.pendingMu.Unlock()
	out := t.pending
	t.pending = spare[:0]
	return out
}

// run simulates a batch of accesses.
func (t *Tracker) run(as []access) {
	if len(as) == 0 {
		return
	}
	t.mu.Lock()
	for _, a := range as {
		t.simulate(a)
	}
	t.mu.Unlock()
	clear(as) // drop the keys
}

// SetCapacity restarts the estimate for a cache of capacity bytes, as after a reconfiguration.
func (t *Tracker) SetCapacity(capacity int64) {
	if t == nil {
		return
	}
	select {
	case <-t.reset: // a newer capacity replaces one not yet applied
	default:
	}
	t.reset <- capacity
}

// Close stops the Tracker's goroutine. It is safe to call twice.
func (t *Tracker) Close() {
	if t != nil {
		t.once.Do(func() { close(t.done) })
	}
}

func (t *Tracker) loop() {
	tick := time.NewTicker(time.Second) // so that a quiet node's last accesses count too
	defer tick.Stop()
	var spare []access
	for {
		select {
		case <-t.done:
			return
		case c := <-t.reset:
			t.run(t.take(nil))
			t.mu.Lock()
			t.resetLocked(c)
			t.mu.Unlock()
		case <-t.wake:
			as := t.take(spare)
			t.run(as)
			spare = as
		case <-tick.C:
			as := t.take(spare)
			t.run(as)
			spare = as
		case c := <-t.flush:
			as := t.take(spare)
			t.run(as)
			spare = as
			close(c)
		}
	}
}

// Flush waits until the accesses recorded before it are simulated, or the Tracker is closed.
func (t *Tracker) Flush() {
	c := make(chan struct{})
	select {
	case t.flush <- c:
		<-c
	case <-t.done:
	}
}

// resetLocked starts over: every key sampled again, empty simulations.
func (t *Tracker) resetLocked(capacity int64) {
	t.capacity = capacity
	t.threshold = ^uint64(0)
	t.sampleBelow.Store(t.threshold)
	t.sampled = t.sampled[:0]
	t.where = map[string]int{}
	t.accesses, t.weight = 0, 0
	t.dropped.Store(0)
	t.sims = make([][]*cache.Store, len(t.cfg.Policies))
	t.hits = make([][]float64, len(t.cfg.Policies))
	for p, pol := range t.cfg.Policies {
		t.sims[p] = make([]*cache.Store, len(t.cfg.Scales))
		t.hits[p] = make([]float64, len(t.cfg.Scales))
		for s := range t.cfg.Scales {
			t.sims[p][s] = cache.NewStore(t.simCapacity(s), pol, uint64(p*len(t.cfg.Scales)+s+1))
		}
	}
}

// rate is the share of keys sampled.
func (t *Tracker) rate() float64 { return float64(t.threshold) / float64(^uint64(0)) }

// simCapacity is the capacity of the simulations at scale index s: the size scaled by the rate.
func (t *Tracker) simCapacity(s int) int64 {
	return int64(t.cfg.Scales[s] * float64(t.capacity) * t.rate())
}

// simulate replays one sampled access through every simulation.
func (t *Tracker) simulate(a access) {
	if a.hash >= t.threshold {
		return // the rate fell while it waited
	}
	if _, ok := t.where[a.key]; !ok {
		heap.Push(&t.sampled, sampledKey{a.key, a.hash})
		t.where[a.key] = 0
		for len(t.sampled) > t.cfg.MaxKeys {
			t.lowerThreshold()
		}
		if a.hash >= t.threshold {
			return
		}
	}
	t.accesses++
	t.weight++
	n := max(a.size-int64(len(a.key)), 0)
	if n > int64(len(t.zero)) {
		// Grow to fit, but never past the largest simulation: a larger value is refused anyway.
		largest := t.simCapacity(len(t.cfg.Scales) - 1)
		t.zero = make([]byte, min(max(n, 2*int64(len(t.zero))), largest+1))
	}
	value := t.zero[:min(n, int64(len(t.zero)))]
	for p := range t.sims {
		for s, st := range t.sims[p] {
			if _, ok := st.Get(a.key); ok {
				t.hits[p][s]++
				continue
			}
			_, _ = st.Put(a.key, value)
		}
	}
}

// lowerThreshold drops the sampled key of the largest hash and makes its hash the new threshold
// (SHARDS with a fixed sample size): the simulations forget the key and shrink with the rate, and
// the counts so far are scaled down with it (SHARDS's rescaling), else the first accesses, sampled
// at a high rate and mostly cold misses, would outweigh the rest.
func (t *Tracker) lowerThreshold() {
	top := heap.Pop(&t.sampled).(sampledKey)
	delete(t.where, top.key)
	f := float64(top.hash) / float64(t.threshold)
	t.threshold = top.hash
	t.sampleBelow.Store(t.threshold)
	t.weight *= f
	for p := range t.hits {
		for s := range t.hits[p] {
			t.hits[p][s] *= f
		}
	}
	for p := range t.sims {
		for s, st := range t.sims[p] {
			st.Remove(top.key)
			st.Resize(t.simCapacity(s))
		}
	}
}

// Snapshot returns the estimate so far: hit rates over the sampled accesses since the last reset,
// as the node answers it.
func (t *Tracker) Snapshot() wire.MRC {
	if t == nil {
		return wire.MRC{Success: wire.True, Curves: []wire.MRCCurve{}}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := wire.MRC{Success: wire.True, Capacity: t.capacity, Rate: t.rate(), Keys: len(t.sampled), Accesses: t.accesses, Dropped: t.dropped.Load()}
	for p, pol := range t.cfg.Policies {
		c := wire.MRCCurve{Policy: pol.String()}
		for s, scale := range t.cfg.Scales {
			hr := 0.0
			if t.weight > 0 {
				hr = t.hits[p][s] / t.weight
			}
			c.Points = append(c.Points, wire.MRCPoint{Bytes: int64(scale * float64(t.capacity)), HitRate: hr})
		}
		out.Curves = append(out.Curves, c)
	}
	return out
}

type sampledKey struct {
	key  string
	hash uint64
}

// keyHeap is a max-heap of sampled keys by hash.
type keyHeap []sampledKey

func (h keyHeap) Len() int           { return len(h) }
func (h keyHeap) Less(i, j int) bool { return h[i].hash > h[j].hash }
func (h keyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keyHeap) Push(x any)        { *h = append(*h, x.(sampledKey)) }
func (h *keyHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
