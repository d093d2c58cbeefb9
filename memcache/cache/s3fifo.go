package cache

import (
	"errors"
	"fmt"
)

// S3-FIFO is the policy of Yang et al., "FIFO queues are all you need for
// cache eviction" (SOSP '23), as the authors' reference implementation in
// libCacheSim (S3FIFO.c) runs it.
//
// Most objects in real traces are requested once and never again ("one-hit
// wonders"). S3-FIFO makes every new entry prove itself in a small FIFO queue
// first: when the small queue gives up its oldest entry, an entry used there
// at least Threshold times moves to the main FIFO queue, and any other leaves
// the cache, its key remembered in a ghost queue. A key found in the ghost
// queue when it is stored again was evicted too early and goes straight to the
// main queue. The main queue evicts like CLOCK with a 2-bit counter: its
// oldest entry is reinserted at the head with its count decreased while its
// count is non-zero, and evicted when it reaches zero.
//
// As in the reference, and unlike the paper's pseudocode: the small queue is
// the one to evict from unless the main queue holds more than its share or
// the small queue is empty; an eviction removes exactly one entry, so a
// promotion that overfills the main queue leaves the main queue's eviction to
// the next one; the ghost queue is bounded by the sizes of the keys it
// remembers, a share of the capacity; and an entry larger than the small
// queue is not cached at all. Sizes are bytes here, as the store's capacity
// is; with entries of one size they count entries.
//
// A promotion is paid for by the insertion that put the entry in the small
// queue, and a reinsertion by the hit that raised the count, so an eviction is
// O(1) amortised.

// S3FIFOConfig holds S3-FIFO's parameters. A zero field means its default.
type S3FIFOConfig struct {
	// SmallShare is the small queue's share of the capacity.
	SmallShare float64
	// GhostShare bounds the ghost queue: the evicted keys it remembers sum to
	// at most this share of the capacity, counted at their entries' sizes.
	GhostShare float64
	// Threshold is how many uses in the small queue earn a move to the main
	// queue: 2 in the reference, 1 ("accessed at least once") in the paper.
	Threshold int
}

// S3-FIFO's defaults, the reference's (S3FIFO.c).
const (
	// DefaultS3SmallShare is the share the paper found to work well across its
	// traces: large enough for an entry used twice in quick succession to be
	// seen twice, small enough that one-hit wonders cost little room.
	DefaultS3SmallShare = 0.10
	// DefaultS3GhostShare lets the ghost remember about as many keys as the
	// main queue holds entries.
	DefaultS3GhostShare = 0.90
	// DefaultS3Threshold is the reference's move-to-main threshold.
	DefaultS3Threshold = 2
)

// s3MaxFreq caps the use counter at 3, the paper's 2 bits: an entry used often
// survives up to three passes of the main queue without another hit, and an
// entry once popular does not stay for ever after it cools. It also bounds
// the threshold.
const s3MaxFreq = 3

// ErrBadS3FIFO reports S3-FIFO parameters out of range.
var ErrBadS3FIFO = errors.New("bad S3-FIFO parameters")

// withDefaults returns c with its zero fields set to the defaults.
func (c S3FIFOConfig) withDefaults() S3FIFOConfig {
	if c.SmallShare == 0 {
		c.SmallShare = DefaultS3SmallShare
	}
	if c.GhostShare == 0 {
		c.GhostShare = DefaultS3GhostShare
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultS3Threshold
	}
	return c
}

// Validate reports parameters out of range: shares in (0, 1) for the small
// queue and (0, 10] for the ghost, a threshold of 1 to 3.
func (c S3FIFOConfig) Validate() error {
	d := c.withDefaults()
	if !(d.SmallShare > 0 && d.SmallShare < 1) || !(d.GhostShare > 0 && d.GhostShare <= 10) || d.Threshold < 1 || d.Threshold > s3MaxFreq {
		return fmt.Errorf("%w: small share %g, ghost share %g, threshold %d (want (0,1), (0,10], 1 to %d)",
			ErrBadS3FIFO, c.SmallShare, c.GhostShare, c.Threshold, s3MaxFreq)
	}
	return nil
}

// SetS3FIFO sets S3-FIFO's parameters, which apply from the next insertion or
// eviction; zero fields mean the defaults. Parameters out of range are refused
// (see Validate) and change nothing.
func (s *Store) SetS3FIFO(c S3FIFOConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	s.s3 = c.withDefaults()
	return nil
}

// S3FIFO returns S3-FIFO's parameters in force.
func (s *Store) S3FIFO() S3FIFOConfig { return s.s3 }

// s3SmallCap is the small queue's share of the capacity, in bytes.
func (s *Store) s3SmallCap() int64 { return int64(float64(s.capacity) * s.s3.SmallShare) }

// s3GhostCap is the ghost queue's bound, in bytes.
func (s *Store) s3GhostCap() int64 { return int64(float64(s.capacity) * s.s3.GhostShare) }

// s3fifoInsert puts the new entry at index i at the head of the main queue if
// the ghost queue remembered its key (ghost), else at the head of the small
// queue.
func (s *Store) s3fifoInsert(i int32, ghost bool) {
	if ghost {
		s.queue.pushFront(s.links, i)
		return
	}
	s.meta[i] |= metaSmall
	s.small.pushFront(s.links, i)
	s.smallBytes += s.chargeOf(&s.entries[i])
	s.smallLen++
}

// s3fifoVictim returns the entry to evict, never the one at index keep
// (nilIndex keeps none); the caller makes sure another entry exists. It does
// the promotions and reinsertions it passes, and remembers the victim in the
// ghost queue if it leaves from the small queue.
func (s *Store) s3fifoVictim(keep int32) int32 {
	mainHasOther := s.queue.head != nilIndex && (s.queue.head != keep || s.queue.tail != keep)
	fromMain := s.small.head == nilIndex || s.size-s.smallBytes > s.capacity-s.s3SmallCap()
	if !fromMain || !mainHasOther {
		for t := s.small.tail; t != nilIndex; t = s.small.tail {
			if int(s.meta[t]&metaFreq) < s.s3.Threshold && t != keep {
				s.ghost.add(s.hash(s.entries[t].key), s.chargeOf(&s.entries[t]), s.s3GhostCap())
				return t
			}
			// Used enough while in the small queue: promote it, with its
			// count cleared, so it must be used again in the main queue to
			// survive the main queue's next pass.
			s.small.unlink(s.links, t)
			s.meta[t] = 0
			s.smallBytes -= s.chargeOf(&s.entries[t])
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
