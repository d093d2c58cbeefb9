package cache

import (
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
)

// nilIndex marks the end of a list: links are int32 indexes into Store.entries,
// not pointers, so the entry table is one allocation the GC scans as a block and
// a Get or an eviction allocates nothing.
const nilIndex = -1

// maxEntries keeps entry indexes inside int32. Only zero- or one-byte entries
// under a capacity above 2 GiB could reach it.
const maxEntries = math.MaxInt32

// entry is one cached key/value pair. Its index in Store.entries never changes
// while it is resident, so the key index, the policy's lists and the dense slot
// table can all refer to it by index.
type entry struct {
	key   string
	value []byte
	hash  uint32 // low half of the key's hash, to find its index slot
	// slot is the entry's position in Store.dense.
	slot int32
}

// link is an entry's place in its list (see list); prev is towards the head.
// While an entry's slot is free, next links the free list. Links live apart
// from the entries: an LRU Get rewrites up to four of them, and 8-byte links
// keep those writes within a few cache lines that stay hot.
type link struct{ prev, next int32 }

// An entry's policy state is one byte in Store.meta, so the two FIFO policies
// add a byte per entry and nothing to the 48-byte entry. The low two bits are
// a use counter, which SIEVE reads as its visited bit (non-zero: visited) and
// S3-FIFO as its frequency; sharing it lets a switch between the two carry
// what is known about each entry. LRU and Random leave the byte alone.
const (
	metaFreq  uint8 = 3 // the use counter, 0 to 3
	metaSmall uint8 = 4 // S3-FIFO: the entry is in the small queue, not the main one
)

func (e *entry) size() int64 { return int64(len(e.key)) + int64(len(e.value)) }

// charge is what an entry of key and value counts towards the capacity: its
// bytes, or 1 in unit-size mode.
func (s *Store) charge(key string, value []byte) int64 {
	if s.unitSize {
		return 1
	}
	return int64(len(key)) + int64(len(value))
}

// chargeOf is charge for a resident entry.
func (s *Store) chargeOf(e *entry) int64 { return s.charge(e.key, e.value) }

// Store is a byte-bounded key/value store that evicts by LRU, Random
// Replacement, SIEVE, S3-FIFO or (for simulations) FIFO. Get, Put, Remove and each eviction are O(1),
// amortised for SIEVE and S3-FIFO, whose evictions may pass over entries that
// earlier uses paid for. SetPolicy keeps every entry.
//
// The size of an entry is len(key)+len(value). A Store is not safe for
// concurrent use; Cache wraps it with a lock. Stored value slices are kept, not
// copied: callers must not modify a slice after Put or after it is returned.
type Store struct {
	seed    maphash.Seed
	index   keyIndex // key to entry
	entries []entry  // entry table: resident entries and free slots
	links   []link   // list links, parallel to entries
	meta    []uint8  // policy state (metaFreq, metaSmall), parallel to entries
	free    int32    // head of the free slot list, linked by links[i].next
	// dense holds the index of every resident entry, in no order, so Random can
	// pick a uniformly random resident entry in O(1); removal swaps the last
	// element into the hole. It is kept under every policy, so a switch to
	// Random costs nothing.
	dense []int32
	// queue holds every entry, or under S3-FIFO every entry of the main queue,
	// head first: the recency list under LRU and Random (the head is the most
	// recently used), the insertion-ordered queue under SIEVE and S3-FIFO (the
	// head is the newest).
	queue list
	// S3-FIFO's small queue and the bytes and entries in it; empty under the
	// other policies.
	small      list
	smallBytes int64
	smallLen   int
	ghost      ghostQueue // S3-FIFO's ghost queue; empty under the other policies
	s3         S3FIFOConfig
	// unitSize counts every entry as 1, not its bytes (see SetUnitSize).
	unitSize bool
	hand     int32 // SIEVE's hand: the next entry it examines; nilIndex is the tail

	size, capacity int64
	policy         Policy
	rng            *rand.Rand
	onEvict        func(key string, value []byte)
}

// NewStore returns an empty Store holding at most capacity bytes. A capacity of
// zero (or less) turns caching off: Get misses and Put stores nothing. The seed
// makes Random eviction reproducible.
func NewStore(capacity int64, p Policy, seed uint64) *Store {
	s := new(Store)
	s.init(capacity, p, seed)
	return s
}

func (s *Store) init(capacity int64, p Policy, seed uint64) {
	*s = Store{
		seed:     maphash.MakeSeed(),
		free:     nilIndex,
		queue:    emptyList(),
		small:    emptyList(),
		hand:     nilIndex,
		capacity: max(capacity, 0),
		policy:   p,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		s3:       S3FIFOConfig{}.withDefaults(),
	}
	s.index.init()
}

// hash hashes a key for the index. It only reads the seed, which never
// changes, so Cache calls it before taking its lock.
func (s *Store) hash(key string) uint64 { return maphash.String(s.seed, key) }

// SetOnEvict sets a function called with each entry the policy evicts to make
// room (in Put or Resize), after it has left the store. Remove, Clear and the
// replacement of a key's value do not call it. The function must not call back
// into the Store. nil removes it.
func (s *Store) SetOnEvict(f func(key string, value []byte)) { s.onEvict = f }

// Get returns the value stored under key and counts it as a use: LRU makes it
// the most recently used (so does Random, which keeps LRU's order for a switch
// back), SIEVE marks it visited, S3-FIFO counts it.
func (s *Store) Get(key string) ([]byte, bool) { return s.get(key, s.hash(key)) }

// get is Get with the key's hash h already computed.
func (s *Store) get(key string, h uint64) ([]byte, bool) {
	i := s.index.find(uint32(h), key, s.entries)
	if i == nilIndex {
		return nil, false
	}
	s.touch(i)
	return s.entries[i].value, true
}

// touch records a use of the resident entry at index i.
func (s *Store) touch(i int32) {
	switch s.policy {
	case SIEVE:
		s.meta[i] |= 1 // visited
	case S3FIFO:
		if s.meta[i]&metaFreq < s3MaxFreq {
			s.meta[i]++
		}
	case FIFO:
		// A use changes nothing: the queue stays in insertion order.
	default:
		s.queue.moveToFront(s.links, i)
	}
}

// Peek returns the value stored under key without counting it as a use.
func (s *Store) Peek(key string) ([]byte, bool) {
	i := s.index.find(uint32(s.hash(key)), key, s.entries)
	if i == nilIndex {
		return nil, false
	}
	return s.entries[i].value, true
}

// Put stores value under key, replacing any value stored there before, and
// evicts other entries by the current policy until everything fits. It returns
// how many entries it evicted. Replacing a value counts as a use of the key (see
// Get); a new key enters as LRU's most recently used entry, at the head of
// SIEVE's queue, or at the head of S3-FIFO's small queue (its main queue if the
// key is in the ghost queue).
//
// When caching is off (capacity 0) Put stores nothing and returns nil. An entry
// larger than the capacity is refused with ErrTooLarge without evicting
// anything else, but the key's old value is dropped: it was replaced, so it must
// not be served any more.
func (s *Store) Put(key string, value []byte) (evicted int, err error) {
	evicted, _, err = s.put(key, s.hash(key), value)
	return evicted, err
}

// put is Put with the key's hash h already computed. It also reports whether
// key was resident before.
func (s *Store) put(key string, h uint64, value []byte) (evicted int, existed bool, err error) {
	if s.capacity == 0 {
		return 0, false, nil
	}
	need := s.charge(key, value)
	i := s.index.find(uint32(h), key, s.entries)
	ok := i != nilIndex
	if need > s.capacity {
		if ok {
			s.removeAt(i)
		}
		return 0, ok, fmt.Errorf("put %q (%d bytes, capacity %d): %w", key, need, s.capacity, ErrTooLarge)
	}
	if ok {
		e := &s.entries[i]
		grow := need - s.chargeOf(e)
		s.size += grow
		if s.meta[i]&metaSmall != 0 {
			s.smallBytes += grow
		}
		e.value = value
		s.touch(i)
		for s.size > s.capacity {
			s.evict(i)
			evicted++
		}
		return evicted, true, nil
	}
	ghost := false
	if s.policy == S3FIFO {
		// As in the reference, a lookup that misses takes the key from the
		// ghost queue, and an entry larger than the small queue is refused.
		ghost = s.ghost.take(h)
		if small := s.s3SmallCap(); need > small {
			return 0, false, fmt.Errorf("put %q (%d bytes, S3-FIFO's small queue %d of capacity %d): %w", key, need, small, s.capacity, ErrTooLarge)
		}
	}
	for s.size+need > s.capacity || len(s.dense) >= maxEntries {
		s.evict(nilIndex)
		evicted++
	}
	i = s.alloc()
	s.entries[i] = entry{key: key, value: value, hash: uint32(h), slot: int32(len(s.dense))}
	s.meta[i] = 0
	if s.policy == S3FIFO {
		s.s3fifoInsert(i, ghost)
	} else {
		s.queue.pushFront(s.links, i)
	}
	s.dense = append(s.dense, i)
	s.index.insert(uint32(h), i)
	s.size += need
	return evicted, false, nil
}

// Remove deletes key and reports whether it was present.
func (s *Store) Remove(key string) bool { return s.remove(key, s.hash(key)) }

// remove is Remove with the key's hash h already computed.
func (s *Store) remove(key string, h uint64) bool {
	i := s.index.find(uint32(h), key, s.entries)
	if i == nilIndex {
		return false
	}
	s.removeAt(i)
	return true
}

// Clear removes every entry. It keeps the tables' memory for reuse.
func (s *Store) Clear() {
	s.index.reset()
	clear(s.entries) // drop references to keys and values
	s.entries = s.entries[:0]
	s.links = s.links[:0]
	s.meta = s.meta[:0]
	s.dense = s.dense[:0]
	s.free, s.hand = nilIndex, nilIndex
	s.queue, s.small = emptyList(), emptyList()
	s.smallBytes, s.smallLen = 0, 0
	s.ghost.clear()
	s.size = 0
}

// Resize sets the capacity in bytes and at once evicts by the current policy
// down to it. A capacity of zero (or less) turns caching off and empties the
// store. It returns how many entries it evicted.
func (s *Store) Resize(capacity int64) (evicted int) {
	s.capacity = max(capacity, 0)
	for len(s.dense) > 0 && (s.size > s.capacity || s.capacity == 0) {
		s.evict(nilIndex)
		evicted++
	}
	return evicted
}

// SetPolicy switches the replacement policy. Every entry stays, in the order of
// the queue it was in, and what one policy knows carries to the next where the
// next can use it:
//
//   - Between LRU and Random nothing changes: both keep the exact recency list.
//   - From LRU or Random, SIEVE and S3-FIFO take the recency list as their
//     queue (S3-FIFO as its main queue), least recently used at the tail, with
//     no entry visited or counted.
//   - From S3-FIFO, the small queue goes before the main queue (its entries are
//     the newest), the ghost queue is forgotten, and SIEVE reads a non-zero
//     count as visited.
//   - From SIEVE, S3-FIFO puts every entry in the main queue and reads the
//     visited bits as counts of 1; LRU and Random read the queue as recency.
//
// It is O(1) between LRU and Random, O(n) otherwise: switches are rare.
func (s *Store) SetPolicy(p Policy) {
	if p == s.policy {
		return
	}
	if s.policy == S3FIFO {
		s.s3fifoLeave()
	}
	if !countsUses(s.policy) && countsUses(p) {
		clear(s.meta) // counters left over from an earlier switch
	}
	if p == SIEVE {
		// A visited bit is 0 or 1, so that S3-FIFO later reads it as one use.
		for i, m := range s.meta {
			s.meta[i] = min(m, 1)
		}
	}
	s.hand = nilIndex
	s.policy = p
}

// countsUses reports whether a policy keeps the use counter in Store.meta.
func countsUses(p Policy) bool { return p == SIEVE || p == S3FIFO }

// SetUnitSize makes every entry count as 1 towards the capacity, which then
// is a number of entries, or as its bytes again. It is for simulations of
// traces whose objects all have one size, where S3-FIFO's shares must round
// to whole entries as the reference rounds them. Call it on an empty store.
func (s *Store) SetUnitSize(on bool) { s.unitSize = on }

// Len returns the number of entries.
func (s *Store) Len() int { return len(s.dense) }

// Size returns what the entries count towards the capacity: the sum of
// len(key)+len(value) over all entries, or their number in unit-size mode.
func (s *Store) Size() int64 { return s.size }

// Capacity returns the most bytes the store will hold; 0 means caching is off.
func (s *Store) Capacity() int64 { return s.capacity }

// Policy returns the current replacement policy.
func (s *Store) Policy() Policy { return s.policy }

// alloc returns a free entry index, reusing a freed slot when there is one.
func (s *Store) alloc() int32 {
	if i := s.free; i != nilIndex {
		s.free = s.links[i].next
		return i
	}
	s.entries = append(s.entries, entry{})
	s.links = append(s.links, link{})
	s.meta = append(s.meta, 0)
	return int32(len(s.entries) - 1)
}

// evict removes one entry chosen by the policy, never the entry at index keep
// (nilIndex keeps none). The caller makes sure another entry exists.
func (s *Store) evict(keep int32) {
	var v int32
	switch s.policy {
	case Random:
		n := len(s.dense)
		if keep == nilIndex {
			v = s.dense[s.rng.IntN(n)]
		} else {
			// Uniform over the other n-1 entries: skip keep's slot.
			j := s.rng.IntN(n - 1)
			if j >= int(s.entries[keep].slot) {
				j++
			}
			v = s.dense[j]
		}
	case SIEVE:
		v = s.sieveVictim(keep)
	case S3FIFO:
		v = s.s3fifoVictim(keep)
	default:
		v = s.queue.tail
		if v == keep {
			v = s.links[v].prev
		}
	}
	if s.onEvict == nil {
		s.removeAt(v)
		return
	}
	key, value := s.entries[v].key, s.entries[v].value
	s.removeAt(v)
	s.onEvict(key, value)
}

// removeAt unlinks the resident entry at index i and frees its slot.
func (s *Store) removeAt(i int32) {
	e := &s.entries[i]
	if s.meta[i]&metaSmall != 0 {
		s.small.unlink(s.links, i)
		s.smallBytes -= s.chargeOf(e)
		s.smallLen--
	} else {
		if s.hand == i {
			// SIEVE's hand moves on towards the head, as after an eviction.
			s.hand = s.links[i].prev
		}
		s.queue.unlink(s.links, i)
	}
	s.meta[i] = 0
	last := len(s.dense) - 1
	moved := s.dense[last]
	s.dense[e.slot] = moved
	s.entries[moved].slot = e.slot
	s.dense = s.dense[:last]

	s.index.remove(e.hash, i)
	s.size -= s.chargeOf(e)
	*e = entry{slot: nilIndex}
	s.links[i] = link{prev: nilIndex, next: s.free}
	s.free = i
}
