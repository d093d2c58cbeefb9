package cache

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"imgcache/memcache/wire"
)

// Lease is a token handed out with a miss: the protocol's lease, so the service
// passes it through as is. Only a Fill carrying the key's outstanding lease is
// stored, so a value read before an invalidation can never be cached after it:
// once a write has invalidated a key, no slower reader of the old value can put
// it back. The zero Lease is never outstanding.
type Lease = wire.Lease

// Config configures a Cache. The zero value is a 10 MB LRU cache.
type Config struct {
	// Capacity is the most bytes (keys plus values) held. Zero means
	// DefaultCapacity; a negative Capacity starts with caching off. At run time,
	// Configure(0, p) turns caching off.
	Capacity int64
	// Policy is the replacement policy; the zero value is LRU.
	Policy Policy
	// Seed seeds the random choices of Random eviction, for reproducible runs.
	Seed uint64
	// MaxLeases is the number of outstanding leases the cache can hold; zero
	// or less means DefaultMaxLeases. The lease table is allocated at once, 16
	// bytes a lease (1 MiB by default), in sets of four by key hash: a new lease
	// displaces the oldest lease of a full set. That is safe: a lost lease only
	// makes its Fill refused.
	MaxLeases int
	// OnEvict, if not nil, is called with each entry evicted to make room (by
	// Put, Fill or Configure), after the operation and outside the cache's lock,
	// so it may call the Cache. Invalidate, Clear and replacing a key's value do
	// not call it.
	OnEvict func(key string, value []byte)
}

// Stats is a snapshot of a Cache. Counters are cumulative since New.
type Stats struct {
	Items    int    // entries held
	Bytes    int64  // sum of len(key)+len(value) over the entries
	Capacity int64  // bytes; 0 means caching is off
	Policy   Policy // replacement policy

	Gets          uint64 // Get calls
	Hits          uint64 // Get calls that found the key
	Misses        uint64 // Get calls that did not
	Puts          uint64 // Put calls, stored or refused as too large
	Fills         uint64 // Fill calls, stored or refused
	RefusedFills  uint64 // Fill calls refused because their lease was void
	Evictions     uint64 // entries evicted to make room
	Invalidations uint64 // Invalidate calls, whether or not the key was held
}

// Cache is a Store safe for concurrent use, with leases and counters. One
// mutex guards everything: every policy decides over all keys (LRU's order,
// SIEVE's hand and S3-FIFO's queues are global), so the cache is not sharded.
//
// Values are kept, not copied: after Put or Fill the cache owns the slice, and
// Get returns it as is. Nobody may modify a slice after handing it to the cache
// or receiving it from Get.
type Cache struct {
	mu    sync.Mutex
	store Store
	// leases holds the outstanding leases. A resident key has no lease: leases
	// are issued on a miss, and the Put or Fill that makes a key resident
	// revokes or consumes its lease. So a Put of a resident key skips revoking.
	leases leaseTable

	onEvict func(key string, value []byte)
	evicted []kv // evictions of the current operation, for onEvict

	hits, misses, puts, fills, refusedFills, evictions, invalidations uint64
}

type kv struct {
	key   string
	value []byte
}

// New returns an empty Cache configured by cfg.
func New(cfg Config) *Cache {
	capacity := cfg.Capacity
	if capacity == 0 {
		capacity = DefaultCapacity
	}
	maxLeases := cfg.MaxLeases
	if maxLeases <= 0 {
		maxLeases = DefaultMaxLeases
	}
	c := &Cache{onEvict: cfg.OnEvict}
	c.store.init(capacity, cfg.Policy, cfg.Seed)
	// Tokens start at a random value so that a token issued by an earlier
	// process, before a restart, does not match one this process issues.
	c.leases.init(maxLeases, Lease(rand.Uint64()))
	if c.onEvict != nil {
		c.store.SetOnEvict(func(key string, value []byte) {
			c.evicted = append(c.evicted, kv{key, value})
		})
	}
	return c
}

// Get returns the value stored under key and marks it used. On a miss it
// returns the key's lease instead, the same one to every caller until the lease
// is consumed or revoked; the caller that loads the value hands it back to Fill.
// When caching is off the lease is 0.
func (c *Cache) Get(key string) (value []byte, lease Lease, ok bool) {
	h := c.store.hash(key)
	c.mu.Lock()
	if v, ok := c.store.get(key, h); ok {
		c.hits++
		c.mu.Unlock()
		return v, 0, true
	}
	c.misses++
	if c.store.capacity > 0 {
		lease = c.leases.get(h)
	}
	c.mu.Unlock()
	return nil, lease, false
}

// Put stores value under key unconditionally, evicting by the policy as needed,
// and revokes the key's outstanding lease: whoever is loading the key may hold
// an older value. An entry larger than the capacity is refused with
// ErrTooLarge, and the key's old value is dropped.
func (c *Cache) Put(key string, value []byte) error {
	h := c.store.hash(key)
	c.mu.Lock()
	c.puts++
	n, existed, err := c.store.put(key, h, value)
	if !existed {
		c.leases.revoke(h)
	}
	c.evictions += uint64(n)
	c.unlockAndNotify()
	return err
}

// Fill stores value under key if lease is still the key's outstanding lease,
// which it consumes. Otherwise an invalidation, clear or Put came after the
// miss, value may be stale, and Fill stores nothing and returns ErrLeaseRevoked.
func (c *Cache) Fill(key string, value []byte, lease Lease) error {
	h := c.store.hash(key)
	c.mu.Lock()
	c.fills++
	if !c.leases.consume(h, lease) {
		c.refusedFills++
		c.mu.Unlock()
		return fmt.Errorf("fill %q: %w", key, ErrLeaseRevoked)
	}
	n, _, err := c.store.put(key, h, value)
	c.evictions += uint64(n)
	c.unlockAndNotify()
	return err
}

// Invalidate removes key and revokes its outstanding lease. It reports whether
// the key was held.
func (c *Cache) Invalidate(key string) bool {
	h := c.store.hash(key)
	c.mu.Lock()
	c.invalidations++
	c.leases.revoke(h)
	ok := c.store.remove(key, h)
	c.mu.Unlock()
	return ok
}

// Clear removes every entry and revokes every outstanding lease.
func (c *Cache) Clear() {
	c.mu.Lock()
	c.store.Clear()
	c.leases.revokeAll()
	c.mu.Unlock()
}

// Configure sets the capacity in bytes and the policy, and at once evicts by
// the new policy down to the new capacity. Entries are kept across a policy
// switch (see Store.SetPolicy). A capacity of zero (or less) turns caching off
// and empties the cache. It returns how many entries it evicted.
func (c *Cache) Configure(capacity int64, p Policy) (evicted int) {
	c.mu.Lock()
	c.store.SetPolicy(p)
	evicted = c.store.Resize(capacity)
	c.evictions += uint64(evicted)
	c.unlockAndNotify()
	return evicted
}

// Stats returns a consistent snapshot of the cache's state and counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{
		Items:         c.store.Len(),
		Bytes:         c.store.Size(),
		Capacity:      c.store.Capacity(),
		Policy:        c.store.Policy(),
		Gets:          c.hits + c.misses,
		Hits:          c.hits,
		Misses:        c.misses,
		Puts:          c.puts,
		Fills:         c.fills,
		RefusedFills:  c.refusedFills,
		Evictions:     c.evictions,
		Invalidations: c.invalidations,
	}
}

// unlockAndNotify releases c.mu, then passes the operation's evictions to
// OnEvict, so that a slow or re-entrant callback never runs under the lock.
func (c *Cache) unlockAndNotify() {
	if len(c.evicted) == 0 {
		c.mu.Unlock()
		return
	}
	ev := c.evicted
	c.evicted = nil // ev now belongs to this goroutine
	c.mu.Unlock()
	for _, e := range ev {
		c.onEvict(e.key, e.value)
	}
}
