package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkStore verifies every internal invariant of s: the recency list, the
// index map, the dense slot table, the free list and the byte accounting agree.
func checkStore(t testing.TB, s *Store) {
	t.Helper()
	n, size, prev := 0, int64(0), int32(nilIndex)
	if len(s.links) != len(s.entries) {
		t.Fatalf("%d links for %d entries", len(s.links), len(s.entries))
	}
	for i := s.queue.head; i != nilIndex; i = s.links[i].next {
		if n++; n > len(s.entries) {
			t.Fatalf("recency list has a cycle")
		}
		e := &s.entries[i]
		if s.links[i].prev != prev {
			t.Fatalf("entry %d (%q): prev = %d, want %d", i, e.key, s.links[i].prev, prev)
		}
		if j := s.index.find(uint32(s.hash(e.key)), e.key, s.entries); j != i {
			t.Fatalf("index.find(%q) = %d, want %d", e.key, j, i)
		}
		if e.hash != uint32(s.hash(e.key)) {
			t.Fatalf("entry %d (%q) has hash %#x, want %#x", i, e.key, e.hash, uint32(s.hash(e.key)))
		}
		if int(e.slot) >= len(s.dense) || s.dense[e.slot] != i {
			t.Fatalf("entry %d (%q) has slot %d, not pointing back", i, e.key, e.slot)
		}
		size += e.size()
		prev = i
	}
	if s.queue.tail != prev {
		t.Fatalf("tail = %d, want %d", s.queue.tail, prev)
	}
	if n != s.index.n || n != len(s.dense) || n != s.Len() {
		t.Fatalf("list has %d entries, index %d, dense %d, Len %d", n, s.index.n, len(s.dense), s.Len())
	}
	occupied := 0
	for _, slot := range s.index.slots {
		if slot != 0 {
			occupied++
			if i := slotEntry(slot); i < 0 || int(i) >= len(s.entries) || s.entries[i].slot == nilIndex {
				t.Fatalf("index slot %#x names entry %d, which is not resident", slot, i)
			}
		}
	}
	if occupied != n || occupied*4 > len(s.index.slots)*3 {
		t.Fatalf("index has %d occupied of %d slots, want %d at most 3/4 full", occupied, len(s.index.slots), n)
	}
	if size != s.Size() {
		t.Fatalf("Size() = %d, want sum of entries %d", s.Size(), size)
	}
	if s.Size() > s.Capacity() {
		t.Fatalf("Size() = %d > Capacity() = %d", s.Size(), s.Capacity())
	}
	free := 0
	for i := s.free; i != nilIndex; i = s.links[i].next {
		if free++; free > len(s.entries) {
			t.Fatalf("free list has a cycle")
		}
	}
	if n+free != len(s.entries) {
		t.Fatalf("%d resident + %d free != %d slots", n, free, len(s.entries))
	}
}

// order returns the keys from most to least recently used.
func order(s *Store) []string {
	var keys []string
	for i := s.queue.head; i != nilIndex; i = s.links[i].next {
		keys = append(keys, s.entries[i].key)
	}
	return keys
}

// val returns a value that makes key+value exactly size bytes.
func val(key string, size int) []byte {
	v := make([]byte, size-len(key))
	for i := range v {
		v[i] = key[0]
	}
	return v
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    Policy
		wantErr bool
	}{
		{"Least Recently Used", LRU, false},
		{"least recently used", LRU, false},
		{"  LRU\n", LRU, false},
		{"lru", LRU, false},
		{"Random Replacement", Random, false},
		{"RANDOM REPLACEMENT", Random, false},
		{"RR", Random, false},
		{" random ", Random, false},
		{"", LRU, true},
		{"LFU", LRU, true},
		{"Least  Recently Used", LRU, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePolicy(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownPolicy) {
					t.Errorf("ParsePolicy(%q) error = %v, want ErrUnknownPolicy", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParsePolicy(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPolicyText(t *testing.T) {
	tests := []struct {
		p    Policy
		want string
	}{
		{LRU, "Least Recently Used"},
		{Random, "Random Replacement"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			b, err := tt.p.MarshalText()
			if err != nil || string(b) != tt.want {
				t.Errorf("MarshalText() = %q, %v; want %q, nil", b, err, tt.want)
			}
			var back Policy = 7
			if err := back.UnmarshalText(b); err != nil || back != tt.p {
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, tt.p)
			}
		})
	}
	if _, err := Policy(9).MarshalText(); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("Policy(9).MarshalText() error = %v, want ErrUnknownPolicy", err)
	}
	if got, want := Policy(9).String(), "Policy(9)"; got != want {
		t.Errorf("Policy(9).String() = %q, want %q", got, want)
	}
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
	for _, p := range []Policy{LRU, Random} {
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
			s.Put("c", make([]byte, 999))
			want(1, 1000)
			s.Put("d", make([]byte, 9)) // evicts c, the only other entry
			want(1, 10)
		})
	}
}

func TestStorePolicySwitchKeepsEntries(t *testing.T) {
	s := NewStore(1000, LRU, 5)
	for i := range 50 {
		k := fmt.Sprintf("k%02d", i)
		s.Put(k, val(k, 20))
	}
	before := order(s)
	for _, p := range []Policy{Random, LRU, Random, Random, LRU} {
		s.SetPolicy(p)
		if got := s.Policy(); got != p {
			t.Fatalf("Policy() = %v, want %v", got, p)
		}
		if got := order(s); !slices.Equal(got, before) {
			t.Fatalf("after SetPolicy(%v) order = %q, want %q", p, got, before)
		}
		checkStore(t, s)
	}
	if got, want := s.Size(), int64(1000); got != want {
		t.Errorf("Size() = %d, want %d", got, want)
	}
}

func TestStoreResize(t *testing.T) {
	for _, p := range []Policy{LRU, Random} {
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
			if p == LRU {
				for i := 65; i < 100; i++ {
					if k := fmt.Sprintf("k%02d", i); !slices.Contains(order(s), k) {
						t.Errorf("Resize evicted %q, one of the 35 most recent", k)
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
	for _, capacity := range []int64{0, -1} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			s := NewStore(capacity, LRU, 1)
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
	for _, p := range []Policy{LRU, Random} {
		t.Run(p.String(), func(t *testing.T) {
			s := NewStore(100, p, 1)
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
			if n, err := s.Put("c", val("c", 100)); err != nil || n != 2 {
				t.Errorf("Put(exactly capacity) = %d, %v; want 2, nil", n, err)
			}
			checkStore(t, s)
		})
	}
}

func TestStoreGetAllocatesNothing(t *testing.T) {
	s := NewStore(1<<20, LRU, 1)
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
}

// lruModel is an obviously correct, slow LRU used as the reference for Store.
type lruModel struct {
	capacity int64
	keys     []string // most recent first
	values   map[string][]byte
}

func (m *lruModel) size() int64 {
	var n int64
	for _, k := range m.keys {
		n += int64(len(k) + len(m.values[k]))
	}
	return n
}

func (m *lruModel) touch(key string) {
	i := slices.Index(m.keys, key)
	m.keys = slices.Insert(slices.Delete(m.keys, i, i+1), 0, key)
}

func (m *lruModel) remove(key string) bool {
	i := slices.Index(m.keys, key)
	if i < 0 {
		return false
	}
	m.keys = slices.Delete(m.keys, i, i+1)
	delete(m.values, key)
	return true
}

func (m *lruModel) evictTo(limit int64) (n int) {
	for len(m.keys) > 0 && (m.size() > limit || limit == 0) {
		m.remove(m.keys[len(m.keys)-1])
		n++
	}
	return n
}

func (m *lruModel) put(key string, value []byte) (int, bool) {
	if m.capacity == 0 {
		return 0, false
	}
	m.remove(key)
	if int64(len(key)+len(value)) > m.capacity {
		return 0, true
	}
	m.keys = slices.Insert(m.keys, 0, key)
	m.values[key] = value
	n := 0
	for m.size() > m.capacity {
		m.remove(m.keys[len(m.keys)-1])
		n++
	}
	return n, false
}

// runModel plays ops (two bytes each) against a Store and the model and fails
// on the first difference in results, contents or recency order.
func runModel(t *testing.T, capacity int64, ops []byte) {
	s := NewStore(capacity, LRU, 1)
	m := &lruModel{capacity: max(capacity, 0), values: map[string][]byte{}}
	for i := 0; i+1 < len(ops); i += 2 {
		op, arg := ops[i], ops[i+1]
		key := string(rune('a' + arg%12))
		if arg%12 == 11 {
			key = ""
		}
		var desc string
		switch op % 8 {
		case 0, 1, 2: // put
			value := make([]byte, int(op/8)%40)
			desc = fmt.Sprintf("Put(%q, %d bytes)", key, len(value))
			n, err := s.Put(key, value)
			wantN, wantTooLarge := m.put(key, value)
			if n != wantN || errors.Is(err, ErrTooLarge) != wantTooLarge || (err != nil && !wantTooLarge) {
				t.Fatalf("op %d: %s = %d, %v; want %d, too large %v", i/2, desc, n, err, wantN, wantTooLarge)
			}
		case 3, 4: // get
			desc = fmt.Sprintf("Get(%q)", key)
			v, ok := s.Get(key)
			want, wantOK := m.values[key]
			if wantOK {
				m.touch(key)
			}
			if ok != wantOK || len(v) != len(want) {
				t.Fatalf("op %d: %s = %d bytes, %v; want %d bytes, %v", i/2, desc, len(v), ok, len(want), wantOK)
			}
		case 5: // peek
			desc = fmt.Sprintf("Peek(%q)", key)
			_, ok := s.Peek(key)
			if _, wantOK := m.values[key]; ok != wantOK {
				t.Fatalf("op %d: %s = %v, want %v", i/2, desc, ok, wantOK)
			}
		case 6: // remove
			desc = fmt.Sprintf("Remove(%q)", key)
			if got, want := s.Remove(key), m.remove(key); got != want {
				t.Fatalf("op %d: %s = %v, want %v", i/2, desc, got, want)
			}
		case 7: // resize, or now and then clear
			if op/8%8 == 0 {
				desc = "Clear()"
				s.Clear()
				m.keys, m.values = nil, map[string][]byte{}
				break
			}
			c := int64(op/8) * 3 % 150
			desc = fmt.Sprintf("Resize(%d)", c)
			m.capacity = c
			if got, want := s.Resize(c), m.evictTo(c); got != want {
				t.Fatalf("op %d: %s = %d, want %d", i/2, desc, got, want)
			}
		}
		checkStore(t, s)
		if got := order(s); !slices.Equal(got, m.keys) {
			t.Fatalf("op %d: after %s order = %q, want %q", i/2, desc, got, m.keys)
		}
		if s.Size() != m.size() {
			t.Fatalf("op %d: after %s Size() = %d, want %d", i/2, desc, s.Size(), m.size())
		}
	}
}

func TestStoreMatchesLRUModel(t *testing.T) {
	for seed := range uint64(50) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0))
			ops := make([]byte, 2000)
			for i := range ops {
				ops[i] = byte(r.Uint32())
			}
			runModel(t, int64(r.IntN(200))-10, ops)
		})
	}
}

func FuzzStoreLRU(f *testing.F) {
	f.Add(int64(100), []byte{0, 1, 8, 2, 16, 3, 3, 1, 24, 4, 6, 2})
	f.Add(int64(0), []byte{0, 1, 3, 1})
	f.Add(int64(40), []byte{255, 1, 7, 9, 0, 2, 7, 0})
	f.Fuzz(func(t *testing.T, capacity int64, ops []byte) {
		runModel(t, capacity%300, ops)
	})
}
