package cache

import (
	"slices"
	"testing"
)

// TestS3FIFO plays hand-built sequences of 10-byte entries and checks
// S3-FIFO's defining behaviour. At capacity 100 the small queue's share is 10
// bytes, so it evicts whenever it holds an entry; at capacity 110 (11 bytes) a
// small queue of one entry leaves the eviction to the main queue.
func TestS3FIFO(t *testing.T) {
	letters := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	tests := []struct {
		name        string
		capacity    int64
		ops         []storeOp
		wantMain    []string // newest first
		wantSmall   []string // newest first
		wantGhost   []string // oldest first
		wantFreq    map[string]int
		wantEvicted []string
	}{
		{
			name:      "new objects enter the small queue",
			capacity:  100,
			ops:       puts("a", "b", "c"),
			wantSmall: []string{"c", "b", "a"},
		},
		{
			// The ghost stays empty too: it holds as many keys as the main
			// queue holds entries, and the main queue is empty.
			name:        "one-hit wonders leave through the small queue without entering main",
			capacity:    100,
			ops:         puts(append(letters, "l")...),
			wantSmall:   []string{"l", "k", "j", "i", "h", "g", "f", "e", "d", "c"},
			wantEvicted: []string{"a", "b"},
		},
		{
			name:        "an object accessed while in small moves to main, its count cleared",
			capacity:    100,
			ops:         script(puts(letters[:10]...), gets("a"), puts("k")),
			wantMain:    []string{"a"},
			wantSmall:   []string{"k", "j", "i", "h", "g", "f", "e", "d", "c"},
			wantGhost:   []string{"b"},
			wantFreq:    map[string]int{"a": 0},
			wantEvicted: []string{"b"},
		},
		{
			name:        "hits count up to three",
			capacity:    100,
			ops:         script(puts("a", "b"), gets("a", "a", "a", "a", "a", "b", "b")),
			wantSmall:   []string{"b", "a"},
			wantFreq:    map[string]int{"a": 3, "b": 2},
			wantEvicted: nil,
		},
		{
			// d is evicted to the ghost; when it is stored again it goes
			// straight to main and leaves the ghost. e, evicted to make room
			// for it, takes its place in the ghost.
			name:        "a ghost hit goes straight to main",
			capacity:    100,
			ops:         script(puts(letters[:10]...), gets("a", "b", "c"), puts("k", "d")),
			wantMain:    []string{"d", "c", "b", "a"},
			wantSmall:   []string{"k", "j", "i", "h", "g", "f"},
			wantGhost:   []string{"e"},
			wantEvicted: []string{"d", "e"},
		},
		{
			name:        "the ghost holds as many keys as main holds entries",
			capacity:    100,
			ops:         script(puts(letters[:10]...), gets("a"), puts("k", "l", "m")),
			wantMain:    []string{"a"},
			wantSmall:   []string{"m", "l", "k", "j", "i", "h", "g", "f", "e"},
			wantGhost:   []string{"d"},
			wantEvicted: []string{"b", "c", "d"},
		},
		{
			// All eleven are used once in small, so the first eviction
			// promotes them all and main evicts its oldest, a. Then b is used
			// twice and c once: main's next eviction reinserts both with
			// their counts decreased and evicts d.
			name:        "main reinserts objects with frequency > 0",
			capacity:    110,
			ops:         script(puts(letters...), gets(letters...), puts("l"), gets("b", "b", "c"), puts("m")),
			wantMain:    []string{"c", "b", "k", "j", "i", "h", "g", "f", "e"},
			wantSmall:   []string{"m", "l"},
			wantFreq:    map[string]int{"b": 1, "c": 0, "e": 0},
			wantEvicted: []string{"a", "d"},
		},
		{
			name:        "replacing a value counts as a use",
			capacity:    100,
			ops:         script(puts(letters[:10]...), puts("a", "k")),
			wantMain:    []string{"a"},
			wantSmall:   []string{"k", "j", "i", "h", "g", "f", "e", "d", "c"},
			wantGhost:   []string{"b"},
			wantEvicted: []string{"b"},
		},
		{
			// After l, main holds b..k, all used once more except b, which
			// the growing replacement uses. Main's eviction then decreases
			// every count on a full round, finds b at the tail with count 0,
			// and must pass over it, as the entry being stored, to evict c
			// and d.
			name:     "a growing replacement in main never evicts itself",
			capacity: 110,
			ops: script(puts(letters...), gets(letters...), puts("l"),
				gets(letters[2:]...), []storeOp{{"put", "b", 30}}),
			wantMain:    []string{"b", "k", "j", "i", "h", "g", "f", "e"},
			wantSmall:   []string{"l"},
			wantFreq:    map[string]int{"b": 0, "k": 0, "e": 0},
			wantEvicted: []string{"a", "c", "d"},
		},
		{
			name:        "a removed object leaves no ghost",
			capacity:    100,
			ops:         script(puts(letters[:10]...), gets("a"), []storeOp{{"remove", "c", 0}}, puts("k", "l")),
			wantMain:    []string{"a"},
			wantSmall:   []string{"l", "k", "j", "i", "h", "g", "f", "e", "d"},
			wantGhost:   []string{"b"},
			wantEvicted: []string{"b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, evicted := play(t, S3FIFO, tt.capacity, tt.ops)
			if got := order(s); !slices.Equal(got, tt.wantMain) {
				t.Errorf("main = %q, want %q", got, tt.wantMain)
			}
			if got := smallOrder(s); !slices.Equal(got, tt.wantSmall) {
				t.Errorf("small = %q, want %q", got, tt.wantSmall)
			}
			var wantGhost []uint64
			for _, k := range tt.wantGhost {
				wantGhost = append(wantGhost, fingerprint(s.hash(k)))
			}
			if got := ghostHashes(&s.ghost); !slices.Equal(got, wantGhost) {
				t.Errorf("ghost = %x, want the hashes of %q", got, tt.wantGhost)
			}
			for k, want := range tt.wantFreq {
				if got := freqOf(s, k); got != want {
					t.Errorf("count of %q = %d, want %d", k, got, want)
				}
			}
			if !slices.Equal(evicted, tt.wantEvicted) {
				t.Errorf("evicted = %q, want %q", evicted, tt.wantEvicted)
			}
		})
	}
}
