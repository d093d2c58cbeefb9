package cache

// keyIndex maps keys to entry indexes: an open-addressing hash table with linear
// probing and backward-shift deletion, used instead of a map[string]int32 so
// that the key's hash can be computed before the Cache takes its lock, and so
// that the table holds no pointers for the GC to scan. S3-FIFO's ghost queue
// uses one too, mapping key hashes to positions in its ring (findValue).
//
// A slot is one uint64: the low 32 bits of the key's hash in the high half, the
// entry index plus one in the low half; 0 is an empty slot. The hash bits give
// both the slot's home position (the table never exceeds 2^32 slots) and a
// 32-bit tag that makes most key comparisons succeed at the first try.
type keyIndex struct {
	slots []uint64
	mask  uint64
	n     int // occupied slots
}

// minIndexSlots is the initial table size: 64 slots, one 512-byte block.
const minIndexSlots = 64

func (x *keyIndex) init() {
	x.slots = make([]uint64, minIndexSlots)
	x.mask = minIndexSlots - 1
	x.n = 0
}

func slotOf(h32 uint32, i int32) uint64 { return uint64(h32)<<32 | uint64(uint32(i)+1) }

func slotEntry(s uint64) int32 { return int32(uint32(s)) - 1 }

// find returns the index of the entry whose key is key, or nilIndex.
func (x *keyIndex) find(h32 uint32, key string, entries []entry) int32 {
	tag := uint64(h32)
	for pos := uint64(h32) & x.mask; ; pos = (pos + 1) & x.mask {
		s := x.slots[pos]
		if s == 0 {
			return nilIndex
		}
		if s>>32 == tag {
			if i := slotEntry(s); entries[i].key == key {
				return i
			}
		}
	}
}

// findValue returns the i for which values[i] == v, or nilIndex: find for a
// table whose entries are 64-bit values rather than keys.
func (x *keyIndex) findValue(h32 uint32, v uint64, values []uint64) int32 {
	tag := uint64(h32)
	for pos := uint64(h32) & x.mask; ; pos = (pos + 1) & x.mask {
		s := x.slots[pos]
		if s == 0 {
			return nilIndex
		}
		if s>>32 == tag {
			if i := slotEntry(s); values[i] == v {
				return i
			}
		}
	}
}

// insert adds entry i, whose key is not in the table yet.
func (x *keyIndex) insert(h32 uint32, i int32) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow()
	}
	pos := uint64(h32) & x.mask
	for x.slots[pos] != 0 {
		pos = (pos + 1) & x.mask
	}
	x.slots[pos] = slotOf(h32, i)
	x.n++
}

// remove deletes entry i, which is in the table, and closes the gap by moving
// back later slots of the probe run that may no longer be reached.
func (x *keyIndex) remove(h32 uint32, i int32) {
	want := slotOf(h32, i)
	pos := uint64(h32) & x.mask
	for x.slots[pos] != want {
		pos = (pos + 1) & x.mask
	}
	// pos is now a hole. Walk the rest of the probe run and move back into the
	// hole any slot whose home is not in (pos, next], which would otherwise
	// become unreachable (Knuth's Algorithm R).
	for next := (pos + 1) & x.mask; x.slots[next] != 0; next = (next + 1) & x.mask {
		s := x.slots[next]
		home := (s >> 32) & x.mask
		if (next-home)&x.mask >= (next-pos)&x.mask {
			x.slots[pos] = s
			pos = next
		}
	}
	x.slots[pos] = 0
	x.n--
}

// grow doubles the table.
func (x *keyIndex) grow() {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	x.mask = uint64(len(x.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		pos := (s >> 32) & x.mask
		for x.slots[pos] != 0 {
			pos = (pos + 1) & x.mask
		}
		x.slots[pos] = s
	}
}

// reset empties the table, keeping its size.
func (x *keyIndex) reset() {
	clear(x.slots)
	x.n = 0
}
