package cache

import (
	"testing"
)

// checkStore verifies every internal invariant of s: the policy's lists, the
// key index, the dense slot table, the free list, the per-entry policy state,
// SIEVE's hand, S3-FIFO's ghost queue and the byte accounting agree.
func checkStore(t testing.TB, s *Store) {
	t.Helper()
	if len(s.links) != len(s.entries) || len(s.meta) != len(s.entries) {
		t.Fatalf("%d links and %d meta for %d entries", len(s.links), len(s.meta), len(s.entries))
	}
	n, size := 0, int64(0)
	checkList := func(name string, l list, inSmall bool) (count int, bytes int64) {
		t.Helper()
		prev := int32(nilIndex)
		for i := l.head; i != nilIndex; i = s.links[i].next {
			if count++; count > len(s.entries) {
				t.Fatalf("%s list has a cycle", name)
			}
			e := &s.entries[i]
			if s.links[i].prev != prev {
				t.Fatalf("%s: entry %d (%q): prev = %d, want %d", name, i, e.key, s.links[i].prev, prev)
			}
			if j := s.index.find(uint32(s.hash(e.key)), e.key, s.entries); j != i {
				t.Fatalf("index.find(%q) = %d, want %d", e.key, j, i)
			}
			if e.hash != uint32(s.hash(e.key)) {
				t.Fatalf("entry %d (%q) has hash %#x, want %#x", i, e.key, e.hash, uint32(s.hash(e.key)))
			}
			if int(e.slot) >= len(s.dense) || s.dense[e.slot] != i {
				t.Fatalf("entry %d (%q) has slot %d, not pointing back", i, e.key, e.slot)
			}
			if got := s.meta[i]&metaSmall != 0; got != inSmall {
				t.Fatalf("entry %d (%q) in the %s list has small flag %v", i, e.key, name, got)
			}
			if s.policy == SIEVE && s.meta[i]&metaFreq > 1 {
				t.Fatalf("entry %d (%q) has visited bit %d under SIEVE, want 0 or 1", i, e.key, s.meta[i]&metaFreq)
			}
			if s.meta[i]&^(metaFreq|metaSmall) != 0 {
				t.Fatalf("entry %d (%q) has meta %#x, unknown bits set", i, e.key, s.meta[i])
			}
			bytes += e.size()
			prev = i
		}
		if l.tail != prev {
			t.Fatalf("%s tail = %d, want %d", name, l.tail, prev)
		}
		return count, bytes
	}
	qn, qsize := checkList("queue", s.queue, false)
	sn, ssize := checkList("small", s.small, true)
	n, size = qn+sn, qsize+ssize
	if sn != s.smallLen || ssize != s.smallBytes {
		t.Fatalf("small list has %d entries of %d bytes, smallLen %d, smallBytes %d", sn, ssize, s.smallLen, s.smallBytes)
	}
	if s.policy != S3FIFO && (sn != 0 || s.ghost.live != 0 || s.ghost.ring != nil) {
		t.Fatalf("policy %v has %d entries in the small queue and %d in the ghost queue", s.policy, sn, s.ghost.live)
	}
	if n != s.index.n || n != len(s.dense) || n != s.Len() {
		t.Fatalf("lists have %d entries, index %d, dense %d, Len %d", n, s.index.n, len(s.dense), s.Len())
	}
	if s.hand != nilIndex {
		if s.policy != SIEVE {
			t.Fatalf("policy %v has a hand at %d", s.policy, s.hand)
		}
		if int(s.hand) >= len(s.entries) || s.entries[s.hand].slot == nilIndex {
			t.Fatalf("hand %d is not on a resident entry", s.hand)
		}
	}
	occupied := 0
	for _, slot := range s.index.slots {
		if slot != 0 {
			occupied++
			if i := slotEntry(slot); i < 0 || int(i) >= len(s.entries) || s.entries[i].slot == nilIndex {
				t.Fatalf("index slot %#x names entry %d, which is not resident", slot, i)
			}
		}
	}
	if occupied != n || occupied*4 > len(s.index.slots)*3 {
		t.Fatalf("index has %d occupied of %d slots, want %d at most 3/4 full", occupied, len(s.index.slots), n)
	}
	if size != s.Size() {
		t.Fatalf("Size() = %d, want sum of entries %d", s.Size(), size)
	}
	if s.Size() > s.Capacity() {
		t.Fatalf("Size() = %d > Capacity() = %d", s.Size(), s.Capacity())
	}
	free := 0
	for i := s.free; i != nilIndex; i = s.links[i].next {
		if free++; free > len(s.entries) {
			t.Fatalf("free list has a cycle")
		}
		if s.meta[i] != 0 {
			t.Fatalf("free slot %d has meta %#x", i, s.meta[i])
		}
	}
	if n+free != len(s.entries) {
		t.Fatalf("%d resident + %d free != %d slots", n, free, len(s.entries))
	}
	checkGhost(t, &s.ghost)
	for _, i := range s.dense {
		if s.ghost.find(s.hash(s.entries[i].key)) {
			t.Fatalf("resident key %q is in the ghost queue", s.entries[i].key)
		}
	}
}

// listKeys returns the keys of l from head to tail.
func listKeys(s *Store, l list) []string {
	var keys []string
	for i := l.head; i != nilIndex; i = s.links[i].next {
		keys = append(keys, s.entries[i].key)
	}
	return keys
}

// order returns the keys of the main queue from head to tail: from most to
// least recently used under LRU and Random, newest to oldest under SIEVE and in
// S3-FIFO's main queue.
func order(s *Store) []string { return listKeys(s, s.queue) }

// smallOrder returns the keys of S3-FIFO's small queue, newest first.
func smallOrder(s *Store) []string { return listKeys(s, s.small) }

// handKey returns the key under SIEVE's hand, or "" at the tail.
func handKey(s *Store) string {
	if s.hand == nilIndex {
		return ""
	}
	return s.entries[s.hand].key
}

// freqOf returns the use counter of a resident key, or -1.
func freqOf(s *Store, key string) int {
	i := s.index.find(uint32(s.hash(key)), key, s.entries)
	if i == nilIndex {
		return -1
	}
	return int(s.meta[i] & metaFreq)
}
