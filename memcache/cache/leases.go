package cache

import "math/bits"

// leaseWays is the number of leases a set holds: 4 slots of 16 bytes fill one
// 64-byte cache line, so every lease operation touches one line.
const leaseWays = 4

// leaseSlot holds one outstanding lease; lease 0 marks a free slot.
type leaseSlot struct {
	hash  uint64 // Store.hash of the key
	lease Lease
}

// leaseTable is a fixed-size, set-associative table of outstanding leases,
// indexed by key hash (the Store's). It never allocates after creation and
// needs no keys.
//
// It is safe by construction rather than exact: every lease token is unique, so
// a Fill is accepted only for a lease that was issued for a key with that hash
// and not revoked since, and revocation clears every lease whose slot carries
// the key's hash. Losing a lease (displaced from a full set, or revoked through
// another key with the same 64-bit hash) only refuses a Fill; it can never let a
// stale value in.
type leaseTable struct {
	sets [][leaseWays]leaseSlot
	mask uint64
	last Lease // the last token issued
}

// init sizes the table to hold at least n leases.
func (t *leaseTable) init(n int, first Lease) {
	sets := max(1, (n+leaseWays-1)/leaseWays)
	sets = 1 << bits.Len(uint(sets-1)) // round up to a power of two
	t.sets = make([][leaseWays]leaseSlot, sets)
	t.mask = uint64(sets - 1)
	t.last = first
}

func (t *leaseTable) set(h uint64) *[leaseWays]leaseSlot { return &t.sets[h&t.mask] }

// get returns the outstanding lease for the key with hash h, issuing one if
// there is none. A full set gives up its oldest lease.
func (t *leaseTable) get(h uint64) Lease {
	set := t.set(h)
	victim := 0
	for i := range set {
		s := &set[i]
		if s.lease != 0 && s.hash == h {
			return s.lease
		}
		// Free slots first, then the oldest (furthest behind the counter).
		if age(t.last, s.lease) > age(t.last, set[victim].lease) {
			victim = i
		}
	}
	t.last++
	if t.last == 0 {
		t.last++
	}
	set[victim] = leaseSlot{hash: h, lease: t.last}
	return t.last
}

// age orders slots for replacement: a free slot is the oldest of all.
func age(last, l Lease) uint64 {
	if l == 0 {
		return ^uint64(0)
	}
	return uint64(last - l)
}

// consume removes lease if it is outstanding for the key with hash h, and
// reports whether it was.
func (t *leaseTable) consume(h uint64, lease Lease) bool {
	if lease == 0 {
		return false
	}
	set := t.set(h)
	for i := range set {
		if set[i].lease == lease && set[i].hash == h {
			set[i] = leaseSlot{}
			return true
		}
	}
	return false
}

// revoke voids every outstanding lease for the key with hash h.
func (t *leaseTable) revoke(h uint64) {
	set := t.set(h)
	for i := range set {
		if set[i].hash == h {
			set[i] = leaseSlot{}
		}
	}
}

// revokeAll voids every outstanding lease.
func (t *leaseTable) revokeAll() { clear(t.sets) }

// len counts the outstanding leases, for tests and checks; O(size).
func (t *leaseTable) len() int {
	n := 0
	for i := range t.sets {
		for _, s := range t.sets[i] {
			if s.lease != 0 {
				n++
			}
		}
	}
	return n
}
