package cache

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestKeyIndexCollisions drives keyIndex with chosen hashes so that probe runs
// collide, cluster and wrap around the end of the table, and checks every key
// after every step against a map.
func TestKeyIndexCollisions(t *testing.T) {
	tests := []struct {
		name string
		hash func(k int) uint32
	}{
		{"all in one home", func(int) uint32 { return 5 }},
		{"homes at the table end", func(k int) uint32 { return uint32(60 + k%4) }},
		{"few distinct hashes", func(k int) uint32 { return uint32(k%7) * 0x01000009 }},
		{"spread", func(k int) uint32 { return uint32(k) * 2654435761 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var x keyIndex
			x.init()
			const keys = 40 // 40 of 64 slots at most: no growth while crowded
			entries := make([]entry, keys)
			for k := range entries {
				entries[k] = entry{key: fmt.Sprint("k", k), hash: tt.hash(k), slot: nilIndex}
			}
			in := map[int]bool{}
			for step := range 4000 {
				k := r.IntN(keys)
				if in[k] {
					x.remove(entries[k].hash, int32(k))
					delete(in, k)
				} else {
					x.insert(entries[k].hash, int32(k))
					in[k] = true
				}
				for j := range entries {
					got := x.find(entries[j].hash, entries[j].key, entries)
					want := int32(nilIndex)
					if in[j] {
						want = int32(j)
					}
					if got != want {
						t.Fatalf("step %d: find(%q) = %d, want %d", step, entries[j].key, got, want)
					}
				}
				if x.n != len(in) {
					t.Fatalf("step %d: n = %d, want %d", step, x.n, len(in))
				}
			}
		})
	}
}

func TestKeyIndexGrows(t *testing.T) {
	var x keyIndex
	x.init()
	const keys = 5000
	entries := make([]entry, keys)
	for k := range entries {
		entries[k] = entry{key: fmt.Sprint("k", k), hash: uint32(k) * 40503}
		x.insert(entries[k].hash, int32(k))
	}
	if x.n != keys || x.n*4 > len(x.slots)*3 {
		t.Fatalf("n = %d in %d slots, want %d at most 3/4 full", x.n, len(x.slots), keys)
	}
	for k := range entries {
		if got := x.find(entries[k].hash, entries[k].key, entries); got != int32(k) {
			t.Fatalf("find(%q) = %d, want %d", entries[k].key, got, k)
		}
	}
	for k := 0; k < keys; k += 2 {
		x.remove(entries[k].hash, int32(k))
	}
	for k := range entries {
		want := int32(k)
		if k%2 == 0 {
			want = nilIndex
		}
		if got := x.find(entries[k].hash, entries[k].key, entries); got != want {
			t.Fatalf("after removals find(%q) = %d, want %d", entries[k].key, got, want)
		}
	}
}
