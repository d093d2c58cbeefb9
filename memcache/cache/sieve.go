package cache

// SIEVE is the policy of Zhang et al., "SIEVE is Simpler than LRU: an
// Efficient Turn-Key Eviction Algorithm for Web Caches" (NSDI '24).
//
// Entries stay in one FIFO queue in insertion order, new entries at the head,
// and a hit only sets the entry's visited bit: nothing moves, which is what
// makes it cheaper than LRU. To evict, a hand walks from where it last stopped
// towards the head, wrapping to the tail, clearing the visited bits it passes,
// and evicts the first entry it finds unvisited. The hand stays there for the
// next eviction. Popular entries are revisited before the hand comes back and
// survive; new entries that are not used again sit between the hand and the
// head and leave at its next pass, sooner than under LRU.
//
// Each bit the hand clears was set by a hit, and the hand passes an unvisited
// entry only by evicting it, so an eviction is O(1) amortised.

// sieveVictim moves the hand to the entry to evict and returns it; it never
// picks the entry at index keep (nilIndex keeps none), and the caller makes sure
// another entry exists. removeAt then moves the hand on towards the head.
func (s *Store) sieveVictim(keep int32) int32 {
	i := s.hand
	for {
		if i == nilIndex {
			i = s.queue.tail
		}
		if s.meta[i]&metaFreq == 0 && i != keep {
			break
		}
		s.meta[i] &^= metaFreq
		i = s.links[i].prev
	}
	s.hand = i
	return i
}
