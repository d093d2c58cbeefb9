package cache

import (
	"errors"
	"slices"
	"testing"
)

// TestS3FIFO plays hand-built sequences of 10-byte entries and checks
// S3-FIFO's defining behaviour at the reference's defaults. At capacity 100
// the small queue's share is 10 bytes and the main queue's 90, so the small
// queue evicts until the main queue holds ten entries; at capacity 110 the
// main queue's share is 99 bytes, so ten entries in main make it evict first.
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
			name:        "one-hit wonders leave through the small queue without entering main",
			capacity:    100,
			ops:         puts(append(letters, "l")...),
			wantSmall:   []string{"l", "k", "j", "i", "h", "g", "f", "e", "d", "c"},
			wantGhost:   []string{"a", "b"},
			wantEvicted: []string{"a", "b"},
		},
		{
			name:        "an object used twice while in small moves to main, its count cleared",
			capacity:    100,
			ops:         script(puts(letters[:10]...), gets("a", "a"), puts("k")),
			wantMain:    []string{"a"},
			wantSmall:   []string{"k", "j", "i", "h", "g", "f", "e", "d", "c"},
			wantGhost:   []string{"b"},
			wantFreq:    map[string]int{"a": 0},
			wantEvicted: []string{"b"},
		},
		{
			name:        "one use in small is not enough at the reference's threshold of 2",
			capacity:    100,
			ops:         script(puts(letters[:10]...), gets("a"), puts("k")),
			wantSmall:   []string{"k", "j", "i", "h", "g", "f", "e", "d", "c", "b"},
			wantGhost:   []string{"a"},
			wantEvicted: []string{"a"},
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
			ops:         script(puts(letters[:10]...), gets("a", "a", "b", "b", "c", "c"), puts("k", "d")),
			wantMain:    []string{"d", "c", "b", "a"},
			wantSmall:   []string{"k", "j", "i", "h", "g", "f"},
			wantGhost:   []string{"e"},
			wantEvicted: []string{"d", "e"},
		},
		{
			// Twenty one-hit wonders: the ghost keeps the newest 90 bytes of
			// the ten evicted, whatever the main queue holds.
			name:        "the ghost remembers keys up to 90% of the capacity",
			capacity:    100,
			ops:         puts("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t"),
			wantSmall:   []string{"t", "s", "r", "q", "p", "o", "n", "m", "l", "k"},
			wantGhost:   []string{"b", "c", "d", "e", "f", "g", "h", "i", "j"},
			wantEvicted: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"},
		},
		{
			// All eleven are used twice in small, so the first eviction
			// promotes them all and main evicts its oldest, a. Main then
			// holds more than its 90%, so it evicts next: b is used twice and
			// c once, so main reinserts both with their counts decreased and
			// evicts d.
			name:        "main reinserts objects with frequency > 0",
			capacity:    110,
			ops:         script(puts(letters...), gets(letters...), gets(letters...), puts("l"), gets("b", "b", "c"), puts("m")),
			wantMain:    []string{"c", "b", "k", "j", "i", "h", "g", "f", "e"},
			wantSmall:   []string{"m", "l"},
			wantFreq:    map[string]int{"b": 1, "c": 0, "e": 0},
			wantEvicted: []string{"a", "d"},
		},
		{
			name:        "replacing a value counts as a use",
			capacity:    100,
			ops:         script(puts(letters[:10]...), puts("a", "a", "k")),
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
			ops: script(puts(letters...), gets(letters...), gets(letters...), puts("l"),
				gets(letters[2:]...), []storeOp{{"put", "b", 30}}),
			wantMain:    []string{"b", "k", "j", "i", "h", "g", "f", "e"},
			wantSmall:   []string{"l"},
			wantFreq:    map[string]int{"b": 0, "k": 0, "e": 0},
			wantEvicted: []string{"a", "c", "d"},
		},
		{
			name:        "a removed object leaves no ghost",
			capacity:    100,
			ops:         script(puts(letters[:10]...), gets("a", "a"), []storeOp{{"remove", "c", 0}}, puts("k", "l")),
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

func TestS3FIFOSettings(t *testing.T) {
	// Threshold 1, the paper's "accessed at least once": one use promotes.
	s := NewStore(100, S3FIFO, 1)
	if err := s.SetS3FIFO(S3FIFOConfig{Threshold: 1}); err != nil {
		t.Fatal(err)
	}
	for _, o := range script(puts("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), gets("a"), puts("k")) {
		apply(t, s, o)
	}
	if got := order(s); !slices.Equal(got, []string{"a"}) {
		t.Errorf("threshold 1: main = %q, want [a]", got)
	}
	// A larger small queue holds an entry the default's refuses: 30 bytes
	// are over 10% of 100 but within 40%.
	for _, share := range []float64{0, 0.4} {
		s := NewStore(100, S3FIFO, 1)
		if err := s.SetS3FIFO(S3FIFOConfig{SmallShare: share}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Put("x", make([]byte, 29))
		if tooLarge := errors.Is(err, ErrTooLarge); tooLarge != (share == 0) || s.Len() != map[bool]int{true: 0, false: 1}[share == 0] {
			t.Errorf("small share %g: Put of 30 bytes: %v, %d entries", share, err, s.Len())
		}
	}
	// A ghost of 20% of the capacity remembers two 10-byte keys.
	s = NewStore(100, S3FIFO, 1)
	if err := s.SetS3FIFO(S3FIFOConfig{GhostShare: 0.2}); err != nil {
		t.Fatal(err)
	}
	for _, o := range puts("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n") {
		apply(t, s, o)
	}
	if got := len(ghostHashes(&s.ghost)); got != 2 {
		t.Errorf("ghost of 20%% holds %d keys, want 2", got)
	}
	for _, bad := range []S3FIFOConfig{{SmallShare: 1}, {SmallShare: -0.1}, {GhostShare: -1}, {GhostShare: 11}, {Threshold: 4}, {Threshold: -1}} {
		if err := s.SetS3FIFO(bad); !errors.Is(err, ErrBadS3FIFO) {
			t.Errorf("SetS3FIFO(%+v) = %v, want ErrBadS3FIFO", bad, err)
		}
	}
	if got := s.S3FIFO(); got != (S3FIFOConfig{SmallShare: DefaultS3SmallShare, GhostShare: 0.2, Threshold: DefaultS3Threshold}) {
		t.Errorf("a refused setting changed the parameters to %+v", got)
	}
}
