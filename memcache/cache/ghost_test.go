package cache

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkGhost verifies the ghost queue's ring, counts and index agree.
func checkGhost(t testing.TB, g *ghostQueue) {
	t.Helper()
	if g.ring == nil {
		if g.n != 0 || g.live != 0 || g.head != 0 {
			t.Fatalf("ghost without a ring has n %d, live %d, head %d", g.n, g.live, g.head)
		}
		return
	}
	size := len(g.ring)
	if size&(size-1) != 0 || size < minGhostSlots {
		t.Fatalf("ghost ring has %d slots, want a power of two >= %d", size, minGhostSlots)
	}
	if g.live < 0 || g.live > g.n || g.n > size || g.head < 0 || g.head >= size {
		t.Fatalf("ghost has live %d, n %d, head %d in %d slots", g.live, g.n, g.head, size)
	}
	live := 0
	for r := range size {
		pos := (g.head + r) & (size - 1)
		f := g.ring[pos]
		if r >= g.n {
			if f != 0 {
				t.Fatalf("ghost slot %d beyond the queue holds %#x", pos, f)
			}
			continue
		}
		if f == 0 {
			continue
		}
		live++
		if f&1 == 0 {
			t.Fatalf("ghost slot %d holds %#x, not a fingerprint", pos, f)
		}
		if got := g.index.findValue(indexHash(f), f, g.ring); got != int32(pos) {
			t.Fatalf("ghost index finds %#x at %d, want %d", f, got, pos)
		}
	}
	if live != g.live || g.index.n != live {
		t.Fatalf("ghost ring holds %d live fingerprints, live %d, index %d", live, g.live, g.index.n)
	}
	var bytes int64
	for r := range g.n {
		if pos := (g.head + r) & (size - 1); g.ring[pos] != 0 {
			bytes += g.sizes[pos]
		}
	}
	if bytes != g.bytes {
		t.Fatalf("ghost's live keys sum to %d bytes, bytes %d", bytes, g.bytes)
	}
}

// find reports whether the key with hash h is remembered,
// without taking it; tests only.
func (g *ghostQueue) find(h uint64) bool {
	if g.live == 0 {
		return false
	}
	f := fingerprint(h)
	return g.index.findValue(indexHash(f), f, g.ring) != nilIndex
}

// ghostHashes returns the ghost queue's live fingerprints, oldest first.
func ghostHashes(g *ghostQueue) []uint64 {
	var fs []uint64
	for r := range g.n {
		if f := g.ring[(g.head+r)&(len(g.ring)-1)]; f != 0 {
			fs = append(fs, f)
		}
	}
	return fs
}

// ghostHash returns the hash of ghost test key k under one of two schemes:
// spread hashes, or hashes whose index halves fall on four values so that
// probe runs in the ghost's index collide and wrap.
func ghostHash(k int, crowded bool) uint64 {
	if crowded {
		return uint64(k%4)<<32 | uint64(k)<<1
	}
	return uint64(k+1) * 0x9e3779b97f4a7c15
}

// runGhost plays ops (two bytes each) against a ghostQueue and a slice of
// keys, oldest first, and fails on the first difference.
func runGhost(t *testing.T, crowded bool, ops []byte) {
	t.Helper()
	var g ghostQueue
	var model []int
	// Key k was an entry of 1 to 4 bytes.
	sizeOf := func(k int) int64 { return int64(1 + k%4) }
	bytes := func() int64 {
		var n int64
		for _, k := range model {
			n += sizeOf(k)
		}
		return n
	}
	limit := int64(40)
	for i := 0; i+1 < len(ops); i += 2 {
		op, k := ops[i], int(ops[i+1])%64
		if op%4 != 0 {
			// Add: the first key from k on that is not remembered, as the
			// store never adds a remembered key.
			for n := 0; n < 64 && slices.Contains(model, k); n++ {
				k = (k + 1) % 64
			}
		}
		h := ghostHash(k, crowded)
		var desc string
		if j := slices.Index(model, k); op%4 == 0 || j >= 0 {
			desc = fmt.Sprintf("take(%d)", k)
			got := g.take(h)
			if j >= 0 {
				model = slices.Delete(model, j, j+1)
			}
			if got != (j >= 0) {
				t.Fatalf("op %d: %s = %v, want %v", i/2, desc, got, j >= 0)
			}
		} else {
			if op%4 == 1 {
				// Limits from 0 to 126 bytes: up to most of the 64 keys,
				// so the ring grows, and down to 0, so it empties and
				// shrinks.
				limit = int64(op/4) * 2
			}
			desc = fmt.Sprintf("add(%d, %d, %d)", k, sizeOf(k), limit)
			g.add(h, sizeOf(k), limit)
			if sizeOf(k) <= limit {
				for len(model) > 0 && bytes()+sizeOf(k) > limit {
					model = model[1:]
				}
				model = append(model, k)
			}
		}
		checkGhost(t, &g)
		var want []uint64
		for _, k := range model {
			want = append(want, fingerprint(ghostHash(k, crowded)))
		}
		if got := ghostHashes(&g); !slices.Equal(got, want) {
			t.Fatalf("op %d: after %s ghost = %x, want %x", i/2, desc, got, want)
		}
	}
}

func TestGhostQueueMatchesModel(t *testing.T) {
	for _, crowded := range []bool{false, true} {
		for seed := range uint64(20) {
			t.Run(fmt.Sprintf("crowded=%v/%d", crowded, seed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, 7))
				ops := make([]byte, 4000)
				for i := range ops {
					ops[i] = byte(r.Uint32())
				}
				runGhost(t, crowded, ops)
			})
		}
	}
}

// TestGhostQueueCompactsInPlace checks that a ghost queue whose keys keep
// coming back stays in one ring: the dead slots are compacted out, without a
// new allocation once the ring has its size.
func TestGhostQueueCompactsInPlace(t *testing.T) {
	var g ghostQueue
	const limit = 20
	for k := range limit {
		g.add(ghostHash(k, false), 1, limit)
	}
	ring := &g.ring[0]
	allocs := testing.AllocsPerRun(100, func() {
		// One key comes back, one new key is remembered: a dead slot each
		// time, so the ring fills and must be compacted every few rounds.
		for k := range 2 * limit {
			if !g.take(ghostHash(k%limit, false)) {
				t.Fatalf("take(%d) = false, want true", k%limit)
			}
			g.add(ghostHash(k%limit, false), 1, limit)
		}
	})
	checkGhost(t, &g)
	if allocs != 0 || &g.ring[0] != ring {
		t.Errorf("steady ghost queue allocates %v times per round (ring moved: %v), want 0", allocs, &g.ring[0] != ring)
	}
	if g.live != limit || len(g.ring) != minGhostSlots {
		t.Errorf("ghost holds %d keys in %d slots, want %d in %d", g.live, len(g.ring), limit, minGhostSlots)
	}
}

func FuzzGhostQueue(f *testing.F) {
	f.Add(false, []byte{5, 1, 5, 2, 5, 3, 0, 2, 9, 4, 1, 1})
	f.Add(true, []byte{255, 1, 255, 2, 255, 3, 255, 4, 0, 3, 4, 9, 4, 10})
	f.Fuzz(func(t *testing.T, crowded bool, ops []byte) {
		runGhost(t, crowded, ops)
	})
}
