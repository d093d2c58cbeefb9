package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// val returns a value that makes key+value exactly size bytes.
func val(key string, size int) []byte {
	v := make([]byte, size-len(key))
	for i := range v {
		v[i] = key[0]
	}
	return v
}

// storeOp is one step of a scripted Store test.
type storeOp struct {
	op   string // "put", "get", "peek", "remove", "resize", "clear", "policy"
	key  string
	size int // put: len(key)+len(value); resize: capacity
}

func apply(t *testing.T, s *Store, o storeOp) (evicted int) {
	t.Helper()
	switch o.op {
	case "put":
		n, err := s.Put(o.key, val(o.key, o.size))
		if err != nil && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Put(%q): %v", o.key, err)
		}
		return n
	case "get":
		s.Get(o.key)
	case "peek":
		s.Peek(o.key)
	case "remove":
		s.Remove(o.key)
	case "resize":
		return s.Resize(int64(o.size))
	case "clear":
		s.Clear()
	case "policy":
		s.SetPolicy(Policy(o.size))
	default:
		t.Fatalf("unknown op %q", o.op)
	}
	return 0
}

// play runs ops on a new Store with policy p and returns it with the keys it
// evicted, in order. It checks the Store's invariants after every step.
func play(t *testing.T, p Policy, capacity int64, ops []storeOp) (*Store, []string) {
	t.Helper()
	s := NewStore(capacity, p, 1)
	var evicted []string
	s.SetOnEvict(func(key string, _ []byte) { evicted = append(evicted, key) })
	total := 0
	for _, o := range ops {
		total += apply(t, s, o)
		checkStore(t, s)
	}
	if total != len(evicted) {
		t.Fatalf("evicted counts sum to %d, but %d evictions were reported", total, len(evicted))
	}
	return s, evicted
}

// puts returns a Put of 10 bytes for each key.
func puts(keys ...string) []storeOp {
	ops := make([]storeOp, len(keys))
	for i, k := range keys {
		ops[i] = storeOp{"put", k, 10}
	}
	return ops
}

// gets returns a Get for each key.
func gets(keys ...string) []storeOp {
	ops := make([]storeOp, len(keys))
	for i, k := range keys {
		ops[i] = storeOp{"get", k, 0}
	}
	return ops
}

// script joins groups of ops into one sequence.
func script(groups ...[]storeOp) []storeOp { return slices.Concat(groups...) }

func TestStoreLRUOrder(t *testing.T) {
	tests := []struct {
		name        string
		capacity    int64
		ops         []storeOp
		want        []string // most to least recently used
		wantEvicted []string
	}{
		{
			name:     "insertion order",
			capacity: 30,
			ops:      []storeOp{{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10}},
			want:     []string{"c", "b", "a"},
		},
		{
			name:        "oldest leaves first",
			capacity:    30,
			ops:         []storeOp{{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10}, {"put", "d", 10}},
			want:        []string{"d", "c", "b"},
			wantEvicted: []string{"a"},
		},
		{
			name:     "get is a use",
			capacity: 30,
			ops: []storeOp{
				{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10},
				{"get", "a", 0}, {"put", "d", 10},
			},
			want:        []string{"d", "a", "c"},
			wantEvicted: []string{"b"},
		},
		{
			name:     "peek is not a use",
			capacity: 30,
			ops: []storeOp{
				{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10},
				{"peek", "a", 0}, {"put", "d", 10},
			},
			want:        []string{"d", "c", "b"},
			wantEvicted: []string{"a"},
		},
		{
			name:     "replace is a use",
			capacity: 30,
			ops: []storeOp{
				{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10},
				{"put", "a", 10}, {"put", "d", 10},
			},
			want:        []string{"d", "a", "c"},
			wantEvicted: []string{"b"},
		},
		{
			name:     "big entry evicts several",
			capacity: 30,
			ops: []storeOp{
				{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10},
				{"put", "d", 25},
			},
			want:        []string{"d"},
			wantEvicted: []string{"a", "b", "c"},
		},
		{
			name:     "growing replace evicts others, never itself",
			capacity: 30,
			ops: []storeOp{
				{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10},
				{"put", "a", 20},
			},
			want:        []string{"a", "c"},
			wantEvicted: []string{"b"},
		},
		{
			name:     "shrinking replace evicts nothing",
			capacity: 30,
			ops: []storeOp{
				{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10},
				{"put", "b", 2}, {"put", "d", 8},
			},
			want: []string{"d", "b", "c", "a"},
		},
		{
			name:     "remove frees room",
			capacity: 30,
			ops: []storeOp{
				{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10},
				{"remove", "b", 0}, {"put", "d", 10},
			},
			want: []string{"d", "c", "a"},
		},
		{
			name:     "shrink evicts least recent",
			capacity: 40,
			ops: []storeOp{
				{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10}, {"put", "d", 10},
				{"get", "a", 0}, {"resize", "", 20},
			},
			want:        []string{"a", "d"},
			wantEvicted: []string{"b", "c"},
		},
		{
			name:     "order survives a policy round trip",
			capacity: 30,
			ops: []storeOp{
				{"put", "a", 10}, {"put", "b", 10}, {"put", "c", 10},
				{"policy", "", int(Random)}, {"get", "a", 0}, {"policy", "", int(LRU)},
				{"put", "d", 10},
			},
			want:        []string{"d", "a", "c"},
			wantEvicted: []string{"b"},
		},
		{
			name:     "exact fit",
			capacity: 30,
			ops:      []storeOp{{"put", "a", 15}, {"put", "b", 15}},
			want:     []string{"b", "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(tt.capacity, LRU, 1)
			var evicted []string
			s.SetOnEvict(func(key string, _ []byte) { evicted = append(evicted, key) })
			total := 0
			for _, o := range tt.ops {
				total += apply(t, s, o)
				checkStore(t, s)
			}
			if got := order(s); !slices.Equal(got, tt.want) {
				t.Errorf("order = %q, want %q", got, tt.want)
			}
			if !slices.Equal(evicted, tt.wantEvicted) {
				t.Errorf("evicted = %q, want %q", evicted, tt.wantEvicted)
			}
			if total != len(tt.wantEvicted) {
				t.Errorf("evicted counts sum to %d, want %d", total, len(tt.wantEvicted))
			}
		})
	}
}

func TestStoreRandomEvictsOnlyWhenNeeded(t *testing.T) {
	const capacity, size = 100, 10
	s := NewStore(capacity, Random, 42)
	resident := map[string]bool{}
	var evicted []string
	s.SetOnEvict(func(key string, _ []byte) { evicted = append(evicted, key) })
	for i := range 500 {
		key := fmt.Sprintf("k%03d", i)
		before := s.Size()
		evicted = evicted[:0]
		n, err := s.Put(key, val(key, size))
		if err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
		wantN := 0
		if before+size > capacity {
			wantN = 1
		}
		if n != wantN || len(evicted) != wantN {
			t.Fatalf("Put(%q) at size %d evicted %d (callback %d), want %d", key, before, n, len(evicted), wantN)
		}
		for _, k := range evicted {
			if !resident[k] {
				t.Fatalf("Put(%q) evicted %q, which was not resident", key, k)
			}
			delete(resident, k)
		}
		resident[key] = true
		checkStore(t, s)
	}
	if got, want := s.Len(), capacity/size; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	for k := range resident {
		if _, ok := s.Peek(k); !ok {
			t.Errorf("Peek(%q) missed a key that was never evicted", k)
		}
	}
}

func TestStoreRandomIsUniform(t *testing.T) {
	const keys, trials = 10, 20000
	s := NewStore(keys*10, Random, 7)
	var victim string
	s.SetOnEvict(func(key string, _ []byte) { victim = key })
	for i := range keys {
		k := fmt.Sprintf("k%d", i)
		s.Put(k, val(k, 10))
	}
	// Each trial inserts an outsider, which evicts one of the ten residents,
	// then restores the resident set so every trial draws from the same ten.
	counts := map[string]int{}
	for range trials {
		if n, err := s.Put("xx", val("xx", 10)); n != 1 || err != nil {
			t.Fatalf("Put(outsider) = %d, %v; want 1, nil", n, err)
		}
		counts[victim]++
		s.Remove("xx")
		s.Put(victim, val(victim, 10))
	}
	checkStore(t, s)
	expected := float64(trials) / keys
	chi2 := 0.0
	for i := range keys {
		d := float64(counts[fmt.Sprintf("k%d", i)]) - expected
		chi2 += d * d / expected
	}
	// 27.88 is the 0.999 quantile of chi-square with 9 degrees of freedom.
	if chi2 > 27.88 || len(counts) != keys {
		t.Errorf("victim counts %v: chi-square %.1f (want <= 27.88) over %d keys", counts, chi2, len(counts))
	}
}

func TestStoreRandomReplaceKeepsItself(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	s := NewStore(200, Random, 3)
	for i := range 2000 {
		key := fmt.Sprintf("k%d", r.IntN(40))
		size := 5 + r.IntN(60)
		if _, err := s.Put(key, val(key, size)); err != nil {
			t.Fatalf("Put(%q, %d bytes): %v", key, size, err)
		}
		if v, ok := s.Peek(key); !ok || len(key)+len(v) != size {
			t.Fatalf("step %d: Peek(%q) = %d bytes, %v after Put of %d bytes", i, key, len(key)+len(v), ok, size)
		}
		if got := order(s)[0]; got != key {
			t.Fatalf("step %d: most recent = %q, want %q", i, got, key)
		}
		checkStore(t, s)
	}
}

func TestStoreAccounting(t *testing.T) {
	for _, p := range Policies() {
		t.Run(p.String(), func(t *testing.T) {
			s := NewStore(1000, p, 9)
			want := func(wantLen int, wantSize int64) {
				t.Helper()
				checkStore(t, s)
				if s.Len() != wantLen || s.Size() != wantSize {
					t.Fatalf("Len, Size = %d, %d; want %d, %d", s.Len(), s.Size(), wantLen, wantSize)
				}
			}
			s.Put("alpha", make([]byte, 95)) // 100
			want(1, 100)
			s.Put("b", make([]byte, 49)) // 50
			want(2, 150)
			s.Put("alpha", make([]byte, 5)) // replaced: 10
			want(2, 60)
			s.Put("alpha", nil) // 5
			want(2, 55)
			s.Put("", nil) // empty key, empty value: 0 bytes
			want(3, 55)
			s.Remove("b")
			want(2, 5)
			if s.Remove("b") {
				t.Errorf("Remove(%q) twice = true, want false", "b")
			}
			want(2, 5)
			s.Clear()
			want(0, 0)
			if p == S3FIFO {
				// No entry larger than its small queue, 10% of the capacity.
				if _, err := s.Put("c", make([]byte, 999)); !errors.Is(err, ErrTooLarge) {
					t.Errorf("S3-FIFO: Put(1000 bytes) = %v, want ErrTooLarge", err)
				}
				want(0, 0)
				return
			}
			s.Put("c", make([]byte, 999))
			want(1, 1000)
			s.Put("d", make([]byte, 9)) // evicts c, the only other entry
			want(1, 10)
		})
	}
}

func TestStoreResize(t *testing.T) {
	for _, p := range Policies() {
		t.Run(p.String(), func(t *testing.T) {
			s := NewStore(1000, p, 11)
			for i := range 100 {
				k := fmt.Sprintf("k%02d", i)
				s.Put(k, val(k, 10))
			}
			if n := s.Resize(2000); n != 0 || s.Len() != 100 {
				t.Fatalf("Resize(larger) evicted %d, Len %d; want 0, 100", n, s.Len())
			}
			if n := s.Resize(355); n != 65 || s.Len() != 35 || s.Size() != 350 {
				t.Fatalf("Resize(355) = %d, Len %d, Size %d; want 65, 35, 350", n, s.Len(), s.Size())
			}
			checkStore(t, s)
			if p != Random {
				// With no use since insertion, the others evict oldest first.
				resident := append(order(s), smallOrder(s)...)
				for i := 65; i < 100; i++ {
					if k := fmt.Sprintf("k%02d", i); !slices.Contains(resident, k) {
						t.Errorf("Resize evicted %q, one of the 35 newest", k)
					}
				}
			}
			s.Put("", nil) // a zero-byte entry must not survive caching off
			if n := s.Resize(-5); n != 36 || s.Len() != 0 || s.Size() != 0 || s.Capacity() != 0 {
				t.Fatalf("Resize(-5) = %d, Len %d, Size %d, Capacity %d; want 36, 0, 0, 0", n, s.Len(), s.Size(), s.Capacity())
			}
			checkStore(t, s)
		})
	}
}

func TestStoreCapacityZero(t *testing.T) {
	for _, tt := range []struct {
		p        Policy
		capacity int64
	}{{LRU, 0}, {LRU, -1}, {Random, 0}, {SIEVE, 0}, {S3FIFO, 0}, {S3FIFO, -1}} {
		t.Run(fmt.Sprint(tt.p, "/", tt.capacity), func(t *testing.T) {
			s := NewStore(tt.capacity, tt.p, 1)
			for _, k := range []string{"a", ""} {
				if n, err := s.Put(k, nil); n != 0 || err != nil {
					t.Errorf("Put(%q) = %d, %v; want 0, nil", k, n, err)
				}
				if n, err := s.Put(k, []byte("value")); n != 0 || err != nil {
					t.Errorf("Put(%q) = %d, %v; want 0, nil", k, n, err)
				}
				if v, ok := s.Get(k); ok {
					t.Errorf("Get(%q) = %q, true; want a miss", k, v)
				}
			}
			if s.Len() != 0 || s.Size() != 0 || s.Capacity() != 0 {
				t.Errorf("Len, Size, Capacity = %d, %d, %d; want 0, 0, 0", s.Len(), s.Size(), s.Capacity())
			}
			checkStore(t, s)
		})
	}
}

func TestStoreTooLarge(t *testing.T) {
	for _, p := range Policies() {
		t.Run(p.String(), func(t *testing.T) {
			s := NewStore(100, p, 1)
			// S3-FIFO caches nothing larger than its small queue: make it 90%.
			if err := s.SetS3FIFO(S3FIFOConfig{SmallShare: 0.9}); err != nil {
				t.Fatal(err)
			}
			var evicted []string
			s.SetOnEvict(func(key string, _ []byte) { evicted = append(evicted, key) })
			s.Put("a", val("a", 30))
			s.Put("b", val("b", 30))
			s.Put("big", val("big", 30))
			n, err := s.Put("big", val("big", 101))
			if !errors.Is(err, ErrTooLarge) || n != 0 {
				t.Fatalf("Put(101 bytes) = %d, %v; want 0, ErrTooLarge", n, err)
			}
			if v, ok := s.Get("big"); ok {
				t.Errorf("Get(%q) = %d bytes after a refused replacement, want a miss", "big", len(v))
			}
			for _, k := range []string{"a", "b"} {
				if _, ok := s.Peek(k); !ok {
					t.Errorf("Peek(%q) missed: an oversize Put evicted another entry", k)
				}
			}
			if len(evicted) != 0 {
				t.Errorf("evicted %q, want none", evicted)
			}
			if got, want := s.Size(), int64(60); got != want {
				t.Errorf("Size() = %d, want %d", got, want)
			}
			if p == S3FIFO {
				if n, err := s.Put("c", val("c", 100)); !errors.Is(err, ErrTooLarge) || n != 0 {
					t.Errorf("S3-FIFO: Put(over the small queue) = %d, %v; want 0, ErrTooLarge", n, err)
				}
			} else if n, err := s.Put("c", val("c", 100)); err != nil || n != 2 {
				t.Errorf("Put(exactly capacity) = %d, %v; want 2, nil", n, err)
			}
			checkStore(t, s)
		})
	}
}

func TestStoreGetAllocatesNothing(t *testing.T) {
	for _, p := range Policies() {
		t.Run(p.String(), func(t *testing.T) {
			s := NewStore(1<<20, p, 1)
			keys := make([]string, 100)
			for i := range keys {
				keys[i] = fmt.Sprintf("key-%d", i)
				s.Put(keys[i], make([]byte, 100))
			}
			i := 0
			allocs := testing.AllocsPerRun(1000, func() {
				s.Get(keys[i%len(keys)])
				s.Get("absent")
				i++
			})
			if allocs != 0 {
				t.Errorf("Get allocates %v times per call, want 0", allocs)
			}
		})
	}
}

// TestStoreSteadyStateAllocatesNothing checks that once the tables have
// grown, storing and evicting reuse them: a full store that keeps taking new
// keys, some of them used once, allocates nothing, under every policy.
func TestStoreSteadyStateAllocatesNothing(t *testing.T) {
	for _, p := range Policies() {
		t.Run(p.String(), func(t *testing.T) {
			const keys = 400
			s := NewStore(100*110, p, 1) // room for about a quarter of the keys
			names := make([]string, keys)
			for i := range names {
				names[i] = fmt.Sprintf("key-%03d", i)
			}
			value := make([]byte, 100)
			r := rand.New(rand.NewPCG(1, 2))
			step := func() {
				k := names[r.IntN(keys)]
				if _, ok := s.Get(k); !ok {
					s.Put(k, value)
				}
			}
			for range 20000 {
				step()
			}
			if allocs := testing.AllocsPerRun(10000, step); allocs != 0 {
				t.Errorf("a Get or Put on a full store allocates %v times per call, want 0", allocs)
			}
			checkStore(t, s)
		})
	}
}
