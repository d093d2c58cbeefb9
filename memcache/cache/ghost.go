package cache

import "math/bits"

// ghostQueue is S3-FIFO's ghost queue: the hashes of keys recently evicted from
// the small queue, oldest first, with no values. A key whose hash is found here
// when it is stored again has proved it is used more than once, so it skips the
// small queue.
//
// Keys are remembered by their 64-bit hash with the low bit set (a
// fingerprint), so that 0 can mark a dead slot; two keys sharing a fingerprint
// only make one of them skip the small queue. The ring keeps FIFO order and the
// index finds a fingerprint's slot, so adding, finding and removing are O(1). A
// key that comes back leaves a dead slot in the middle of the ring; a full ring
// is compacted, which is O(1) amortised because the ring is kept at least a
// third larger than the live keys.
type ghostQueue struct {
	ring  []uint64 // fingerprints from head, oldest first; 0 is a dead slot
	sizes []int64  // the remembered entries' sizes, parallel to ring
	bytes int64    // the sizes of the live fingerprints
	head  int      // ring position of the oldest slot
	n     int      // slots in use from head, live or dead
	live  int      // live fingerprints
	index keyIndex // fingerprint to ring position, keyed by its high half
}

// minGhostSlots is the smallest ring: a 512-byte block, as for keyIndex.
const minGhostSlots = 64

func fingerprint(h uint64) uint64 { return h | 1 }

// indexHash is the half of a fingerprint the index hashes on: the high half,
// since the low half is the main key index's and its lowest bit is always set.
func indexHash(f uint64) uint32 { return uint32(f >> 32) }

// take removes the key with hash h and reports whether it was remembered.
func (g *ghostQueue) take(h uint64) bool {
	if g.live == 0 {
		return false
	}
	f := fingerprint(h)
	pos := g.index.findValue(indexHash(f), f, g.ring)
	if pos == nilIndex {
		return false
	}
	g.index.remove(indexHash(f), pos)
	g.ring[pos] = 0
	g.bytes -= g.sizes[pos]
	g.live--
	return true
}

// add remembers the key with hash h, of an entry of size bytes, as the
// newest, first forgetting the oldest keys until it fits within limit bytes. A
// key larger than limit is not remembered, and forgets nothing, as a FIFO cache
// of limit bytes would refuse it. The store adds only keys it does not
// remember; were two keys to share a fingerprint, both would be remembered, and
// each take would find one.
func (g *ghostQueue) add(h uint64, size, limit int64) {
	if size > limit {
		return
	}
	for g.live > 0 && g.bytes+size > limit {
		g.pop()
	}
	if g.n == len(g.ring) {
		g.compact()
	}
	pos := (g.head + g.n) & (len(g.ring) - 1)
	f := fingerprint(h)
	g.ring[pos] = f
	g.sizes[pos] = size
	g.bytes += size
	g.index.insert(indexHash(f), int32(pos))
	g.n++
	g.live++
}

// pop drops the oldest slot, live or dead.
func (g *ghostQueue) pop() {
	if f := g.ring[g.head]; f != 0 {
		g.index.remove(indexHash(f), int32(g.head))
		g.ring[g.head] = 0
		g.bytes -= g.sizes[g.head]
		g.live--
	}
	g.head = (g.head + 1) & (len(g.ring) - 1)
	g.n--
}

// compact removes the dead slots, in the smallest ring of a power of two that
// holds 4/3 of the live keys plus one: at least a quarter of it is then free, so
// the O(size) work here is paid for by the adds that fill it before the next
// compaction, at a cost of 21 to 43 bytes of ring per key. A ring that keeps
// its size is compacted in place and reuses the index, so a steady state
// allocates nothing.
func (g *ghostQueue) compact() {
	size := max(minGhostSlots, 1<<bits.Len(uint((4*(g.live+1)-1)/3)))
	if size == len(g.ring) {
		mask := size - 1
		w := 0
		for r := range g.n {
			// w <= r, so no slot is written before it is read.
			if f := g.ring[(g.head+r)&mask]; f != 0 {
				g.ring[(g.head+w)&mask] = f
				g.sizes[(g.head+w)&mask] = g.sizes[(g.head+r)&mask]
				w++
			}
		}
		for r := w; r < g.n; r++ {
			g.ring[(g.head+r)&mask] = 0
		}
		g.n = w
		g.index.reset()
	} else {
		ring, sizes := make([]uint64, size), make([]int64, size)
		w := 0
		for r := range g.n {
			if f := g.ring[(g.head+r)&(len(g.ring)-1)]; f != 0 {
				ring[w], sizes[w] = f, g.sizes[(g.head+r)&(len(g.ring)-1)]
				w++
			}
		}
		g.ring, g.sizes, g.head, g.n = ring, sizes, 0, w
		g.index.init()
	}
	for r := range g.n {
		pos := (g.head + r) & (len(g.ring) - 1)
		g.index.insert(indexHash(g.ring[pos]), int32(pos))
	}
}

// clear forgets every key and releases the memory: the ghost is only rebuilt
// after a switch to S3-FIFO or a Clear, both rare.
func (g *ghostQueue) clear() { *g = ghostQueue{} }
