package cache

import (
	"slices"
	"testing"
)

// TestSIEVE plays hand-built sequences of 10-byte entries and checks SIEVE's
// defining behaviour: hits only mark, new entries go to the head, the hand
// clears marks on its way from the tail towards the head, evicts the first
// unmarked entry and stays there for the next eviction.
func TestSIEVE(t *testing.T) {
	tests := []struct {
		name        string
		capacity    int64
		ops         []storeOp
		want        []string // the queue, newest first
		wantHand    string   // the entry under the hand; "" is the tail
		wantVisited []string // entries whose visited bit is set
		wantEvicted []string
	}{
		{
			name:     "new objects go to the head",
			capacity: 30,
			ops:      puts("a", "b", "c"),
			want:     []string{"c", "b", "a"},
		},
		{
			name:        "without hits the oldest leaves first",
			capacity:    30,
			ops:         puts("a", "b", "c", "d"),
			want:        []string{"d", "c", "b"},
			wantHand:    "b",
			wantEvicted: []string{"a"},
		},
		{
			name:        "a hit marks the object and does not move it",
			capacity:    30,
			ops:         script(puts("a", "b", "c"), gets("a", "a")),
			want:        []string{"c", "b", "a"},
			wantVisited: []string{"a"},
		},
		{
			name:        "a visited object survives the hand, which clears its bit",
			capacity:    30,
			ops:         script(puts("a", "b", "c"), gets("a"), puts("d")),
			want:        []string{"d", "c", "a"},
			wantHand:    "c",
			wantEvicted: []string{"b"},
		},
		{
			name:        "a new object goes to the head even when the hand is past the tail",
			capacity:    30,
			ops:         script(puts("a", "b", "c"), gets("a"), puts("d", "e")),
			want:        []string{"e", "d", "a"},
			wantHand:    "d",
			wantEvicted: []string{"b", "c"},
		},
		{
			// After the first eviction the hand rests at d. A hand that
			// restarted from the tail would find a unvisited (its bit was
			// cleared) and evict it; SIEVE evicts d.
			name:        "the hand position persists between evictions",
			capacity:    40,
			ops:         script(puts("a", "b", "c", "d"), gets("a", "b"), puts("e", "f")),
			want:        []string{"f", "e", "b", "a"},
			wantHand:    "e",
			wantEvicted: []string{"c", "d"},
		},
		{
			// e arrives between the hand (at d) and the head; d is used
			// again, e is not, so the hand clears d and takes e, while a and
			// b, whose bits it cleared on its first pass, stay.
			name:        "a new object not used again leaves at the hand's next pass",
			capacity:    40,
			ops:         script(puts("a", "b", "c", "d"), gets("a", "b"), puts("e"), gets("d"), puts("f")),
			want:        []string{"f", "d", "b", "a"},
			wantHand:    "",
			wantEvicted: []string{"c", "e"},
		},
		{
			name:        "the hand wraps from the head to the tail",
			capacity:    30,
			ops:         script(puts("a", "b", "c"), gets("a", "b", "c"), puts("d")),
			want:        []string{"d", "c", "b"},
			wantHand:    "b",
			wantEvicted: []string{"a"},
		},
		{
			name:        "replacing a value marks the object",
			capacity:    30,
			ops:         script(puts("a", "b", "c", "a", "d")),
			want:        []string{"d", "c", "a"},
			wantHand:    "c",
			wantEvicted: []string{"b"},
		},
		{
			name:        "removing the object under the hand moves the hand towards the head",
			capacity:    40,
			ops:         script(puts("a", "b", "c", "d"), gets("a"), puts("e"), []storeOp{{"remove", "c", 0}}),
			want:        []string{"e", "d", "a"},
			wantHand:    "d",
			wantEvicted: []string{"b"},
		},
		{
			name:     "a growing replacement never evicts itself",
			capacity: 30,
			ops: script(puts("a", "b", "c"), gets("b", "c"),
				[]storeOp{{"put", "a", 20}}),
			want:        []string{"c", "a"},
			wantHand:    "c",
			wantEvicted: []string{"b"},
		},
		{
			name:        "a shrink evicts with the same hand",
			capacity:    40,
			ops:         script(puts("a", "b", "c", "d"), gets("a", "c"), []storeOp{{"resize", "", 20}}),
			want:        []string{"c", "a"},
			wantHand:    "",
			wantEvicted: []string{"b", "d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, evicted := play(t, SIEVE, tt.capacity, tt.ops)
			if got := order(s); !slices.Equal(got, tt.want) {
				t.Errorf("queue = %q, want %q", got, tt.want)
			}
			if got := handKey(s); got != tt.wantHand {
				t.Errorf("hand at %q, want %q", got, tt.wantHand)
			}
			var visited []string
			for _, k := range order(s) {
				if freqOf(s, k) != 0 {
					visited = append(visited, k)
				}
			}
			if !slices.Equal(visited, tt.wantVisited) {
				t.Errorf("visited = %q, want %q", visited, tt.wantVisited)
			}
			if !slices.Equal(evicted, tt.wantEvicted) {
				t.Errorf("evicted = %q, want %q", evicted, tt.wantEvicted)
			}
		})
	}
}
