package cache

// S3-FIFO is the policy of Yang et al., "FIFO queues are all you need for
// cache eviction" (SOSP '23).
//
// Most objects in real traces are requested once and never again ("one-hit
// wonders"). S3-FIFO makes every new entry prove itself in a small FIFO queue
// first: when the small queue must give up its oldest entry, an entry used
// while there moves to the main FIFO queue, and any other leaves the cache,
// its key remembered in a ghost queue. A key found in the ghost queue when it
// is stored again was evicted too early and goes straight to the main queue.
// The main queue evicts like CLOCK with a 2-bit counter: its oldest entry is
// reinserted at the head with its count decreased while its count is non-zero,
// and evicted when it reaches zero.
//
// Sizes are in bytes here, as the store's capacity is. The small queue's share
// is of bytes; the ghost queue counts keys, which have no size once evicted,
// and its bound follows the main queue's current entry count, so it is smaller
// while the cache warms up.
//
// One use in the small queue earns a promotion (some implementations ask for
// two), and the promotion clears the count: the entry must be used again in
// the main queue to outlive the main queue's next pass over it.
//
// A promotion is paid for by the insertion that put the entry in the small
// queue, and a reinsertion by the hit that raised the count, so an eviction is
// O(1) amortised.
//
// Two details differ from the paper's pseudocode. An eviction here removes
// exactly one entry, so a promotion that overfills the main queue leaves the
// main queue's eviction to the next one: the store evicts only while it needs
// room. And the queue to evict from is the other one when the chosen one holds
// no entry that may go (the entry being replaced by a larger value may not).
const (
	// s3SmallDivisor sets the small queue's share of the capacity to a
	// tenth: the paper found 10% to work well across its traces, large enough
	// for an entry used twice in quick succession to be seen twice, small
	// enough that one-hit wonders cost little room.
	s3SmallDivisor = 10
	// s3GhostPerMain is how many keys the ghost queue remembers for each entry
	// in the main queue: as many, as in the paper, so that an entry is
	// recognised if it comes back within about the time the main queue would
	// have kept it.
	s3GhostPerMain = 1
	// s3MaxFreq caps the use counter at 3, the paper's 2 bits: an entry used
	// often survives up to three passes of the main queue without another
	// hit, and an entry once popular does not stay for ever after it cools.
	s3MaxFreq = 3
)

// s3fifoInsert puts the new entry at index i, whose key has hash h, at the head
// of the main queue if the ghost queue remembers the key, else at the head of
// the small queue.
func (s *Store) s3fifoInsert(i int32, h uint64) {
	if s.ghost.take(h) {
		s.queue.pushFront(s.links, i)
		return
	}
	s.meta[i] |= metaSmall
	s.small.pushFront(s.links, i)
	s.smallBytes += s.entries[i].size()
	s.smallLen++
}

// s3fifoVictim returns the entry to evict, never the one at index keep
// (nilIndex keeps none); the caller makes sure another entry exists. It does
// the promotions and reinsertions it passes, and remembers the victim in the
// ghost queue if it leaves from the small queue.
func (s *Store) s3fifoVictim(keep int32) int32 {
	mainHasOther := s.queue.head != nilIndex && (s.queue.head != keep || s.queue.tail != keep)
	if s.small.head != nilIndex && (s.smallBytes >= s.capacity/s3SmallDivisor || !mainHasOther) {
		for t := s.small.tail; t != nilIndex; t = s.small.tail {
			if s.meta[t]&metaFreq == 0 && t != keep {
				s.ghost.add(s.hash(s.entries[t].key), (len(s.dense)-s.smallLen)*s3GhostPerMain)
				return t
			}
			// Used while in the small queue: promote it, with its count
			// cleared, so it must be used again in the main queue to survive
			// the main queue's next pass.
			s.small.unlink(s.links, t)
			s.meta[t] = 0
			s.smallBytes -= s.entries[t].size()
			s.smallLen--
			s.queue.pushFront(s.links, t)
		}
	}
	for {
		t := s.queue.tail
		f := s.meta[t] & metaFreq
		if f == 0 && t != keep {
			return t
		}
		if f > 0 {
			s.meta[t]--
		}
		s.queue.moveToFront(s.links, t)
	}
}

// s3fifoLeave turns S3-FIFO's queues into one queue for the next policy: the
// small queue, whose entries are the newest, goes before the main queue.
func (s *Store) s3fifoLeave() {
	for i := s.small.head; i != nilIndex; i = s.links[i].next {
		s.meta[i] &^= metaSmall
	}
	s.queue.prepend(s.links, &s.small)
	s.smallBytes, s.smallLen = 0, 0
	s.ghost.clear()
}
