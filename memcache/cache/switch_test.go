package cache

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// everySwitch visits every ordered pair of distinct policies once, starting
// and ending at LRU.
var everySwitch = []Policy{Random, SIEVE, S3FIFO, LRU, SIEVE, Random, S3FIFO, SIEVE, LRU, S3FIFO, Random, LRU}

func TestEverySwitchIsCovered(t *testing.T) {
	seen := map[[2]Policy]bool{}
	from := LRU
	for _, to := range everySwitch {
		seen[[2]Policy{from, to}] = true
		from = to
	}
	if want := len(Policies()) * (len(Policies()) - 1); len(seen) != want || from != LRU {
		t.Fatalf("everySwitch covers %d ordered pairs ending at %v, want %d ending at LRU", len(seen), from, want)
	}
}

// contents returns every resident key with its value's length.
func contents(s *Store) map[string]int {
	m := map[string]int{}
	for _, i := range s.dense {
		m[s.entries[i].key] = len(s.entries[i].value)
	}
	return m
}

// TestStorePolicySwitchKeepsEntries switches a busy store through every
// ordered pair of policies and checks that no switch loses, adds or resizes an
// entry, and that the store keeps working under the new policy.
func TestStorePolicySwitchKeepsEntries(t *testing.T) {
	for _, start := range Policies() {
		t.Run(start.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(start), 5))
			s := NewStore(2000, start, 5)
			work := func() {
				t.Helper()
				for range 300 {
					k := fmt.Sprintf("k%02d", r.IntN(80))
					if _, ok := s.Get(k); !ok {
						s.Put(k, val(k, 20+r.IntN(30)))
					}
				}
				checkStore(t, s)
			}
			work()
			prev := start
			for _, p := range append([]Policy{start}, everySwitch...) {
				before, size, n := contents(s), s.Size(), s.Len()
				s.SetPolicy(p)
				checkStore(t, s)
				if got := s.Policy(); got != p {
					t.Fatalf("Policy() = %v, want %v", got, p)
				}
				if got := contents(s); !maps.Equal(got, before) || s.Size() != size || s.Len() != n {
					t.Fatalf("%v to %v: %d entries of %d bytes became %d of %d, or changed", prev, p, n, size, s.Len(), s.Size())
				}
				work()
				prev = p
			}
		})
	}
}

// TestStorePolicySwitchOrder checks what each kind of switch carries over:
// queue order, visited bits and counts, the hand, the ghost queue.
func TestStorePolicySwitchOrder(t *testing.T) {
	policy := func(p Policy) []storeOp { return []storeOp{{"policy", "", int(p)}} }
	tests := []struct {
		name        string
		start       Policy
		capacity    int64
		ops         []storeOp
		wantMain    []string
		wantSmall   []string
		wantFreq    map[string]int
		wantEvicted []string
	}{
		{
			name:        "LRU to Random and back keeps exact recency",
			start:       LRU,
			capacity:    30,
			ops:         script(puts("a", "b", "c"), policy(Random), gets("a"), policy(LRU), puts("d")),
			wantMain:    []string{"d", "a", "c"},
			wantEvicted: []string{"b"},
		},
		{
			name:        "LRU to SIEVE queues by recency, nothing visited",
			start:       LRU,
			capacity:    30,
			ops:         script(puts("a", "b", "c"), gets("a"), policy(SIEVE), puts("d")),
			wantMain:    []string{"d", "a", "c"},
			wantFreq:    map[string]int{"a": 0, "c": 0},
			wantEvicted: []string{"b"},
		},
		{
			// Entries of 10 bytes, as S3-FIFO caches none larger than its
			// small queue, 10% of the capacity.
			name:        "LRU to S3-FIFO puts everything in main",
			start:       LRU,
			capacity:    100,
			ops:         script(puts("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), gets("a"), policy(S3FIFO), puts("k")),
			wantMain:    []string{"a", "j", "i", "h", "g", "f", "e", "d", "c"},
			wantSmall:   []string{"k"},
			wantEvicted: []string{"b"},
		},
		{
			name:        "S3-FIFO to LRU puts the small queue before main",
			start:       S3FIFO,
			capacity:    100,
			ops:         script(puts("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), gets("a", "a", "b", "b"), puts("k", "l"), policy(LRU)),
			wantMain:    []string{"l", "k", "j", "i", "h", "g", "f", "e", "b", "a"},
			wantEvicted: []string{"c", "d"},
		},
		{
			// a and b were promoted (counts cleared) and used again; k is
			// used in small. SIEVE reads them as visited: the hand clears a
			// and b and evicts d; k, not reached, keeps its bit.
			name:     "S3-FIFO to SIEVE reads counts as visited bits",
			start:    S3FIFO,
			capacity: 100,
			ops: script(puts("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), gets("a", "a", "b", "b"), puts("k"),
				gets("a", "a", "b", "k"), policy(SIEVE), puts("m")),
			wantMain:    []string{"m", "k", "j", "i", "h", "g", "f", "e", "b", "a"},
			wantFreq:    map[string]int{"a": 0, "b": 0, "k": 1},
			wantEvicted: []string{"c", "d"},
		},
		{
			name:        "SIEVE to S3-FIFO reads visited bits as counts",
			start:       SIEVE,
			capacity:    100,
			ops:         script(puts("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), gets("a"), policy(S3FIFO), puts("k")),
			wantMain:    []string{"a", "j", "i", "h", "g", "f", "e", "d", "c"},
			wantSmall:   []string{"k"},
			wantFreq:    map[string]int{"a": 0, "c": 0},
			wantEvicted: []string{"b"},
		},
		{
			name:     "leaving S3-FIFO forgets the ghost queue",
			start:    S3FIFO,
			capacity: 100,
			ops: script(puts("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), gets("a", "a"), puts("k"),
				policy(SIEVE), policy(S3FIFO), []storeOp{{"remove", "c", 0}}, puts("b")),
			wantMain:    []string{"k", "j", "i", "h", "g", "f", "e", "d", "a"},
			wantSmall:   []string{"b"},
			wantEvicted: []string{"b"},
		},
		{
			name:     "switching to SIEVE puts the hand at the tail",
			start:    SIEVE,
			capacity: 40,
			ops: script(puts("a", "b", "c", "d"), gets("a"), puts("e"), policy(LRU), gets("c"),
				policy(SIEVE), puts("f")),
			wantMain:    []string{"f", "c", "e", "d"},
			wantEvicted: []string{"b", "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, evicted := play(t, tt.start, tt.capacity, tt.ops)
			if got := order(s); !slices.Equal(got, tt.wantMain) {
				t.Errorf("queue = %q, want %q", got, tt.wantMain)
			}
			if got := smallOrder(s); !slices.Equal(got, tt.wantSmall) {
				t.Errorf("small = %q, want %q", got, tt.wantSmall)
			}
			for k, want := range tt.wantFreq {
				if got := freqOf(s, k); got != want {
					t.Errorf("counter of %q = %d, want %d", k, got, want)
				}
			}
			if !slices.Equal(evicted, tt.wantEvicted) {
				t.Errorf("evicted = %q, want %q", evicted, tt.wantEvicted)
			}
		})
	}
}
