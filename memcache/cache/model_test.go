package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// modelEntry is an entry of refModel.
type modelEntry struct {
	key   string
	value []byte
	freq  uint8 // SIEVE's visited bit (non-zero) or S3-FIFO's counter
}

// refModel is an obviously correct, slow reference for Store under every
// policy: slices scanned in O(n), keys instead of hashes in the ghost queue.
// It states each policy's rules once more, independently of the Store's code,
// so a step-by-step comparison catches any departure from them.
type refModel struct {
	policy   Policy
	capacity int64
	queue    []*modelEntry // head first, as Store.queue
	small    []*modelEntry // S3-FIFO's small queue, newest first
	hand     *modelEntry   // SIEVE's hand; nil is the tail
	ghost    []string      // S3-FIFO's ghost queue, oldest first
	// ghostSize holds the size of each ghost's entry when it was evicted.
	ghostSize map[string]int64
	// random holds the Store's Random victims for the current step: the model
	// cannot draw the same numbers, so it checks the Store's draws instead
	// (each victim resident and not the key being stored, and exactly as many
	// evictions as needed) and follows them.
	random  []string
	evicted []string // victims of the current step, in order
}

func newModel(p Policy, capacity int64) *refModel {
	return &refModel{policy: p, capacity: max(capacity, 0), ghostSize: map[string]int64{}}
}

func (m *refModel) all() []*modelEntry { return append(slices.Clone(m.small), m.queue...) }

func (m *refModel) size() int64 {
	var n int64
	for _, e := range m.all() {
		n += int64(len(e.key) + len(e.value))
	}
	return n
}

func (m *refModel) smallBytes() int64 {
	var n int64
	for _, e := range m.small {
		n += int64(len(e.key) + len(e.value))
	}
	return n
}

func (m *refModel) find(key string) *modelEntry {
	for _, e := range m.all() {
		if e.key == key {
			return e
		}
	}
	return nil
}

func (m *refModel) touch(e *modelEntry) {
	switch m.policy {
	case SIEVE:
		e.freq = 1
	case S3FIFO:
		e.freq = min(e.freq+1, 3)
	default:
		i := slices.Index(m.queue, e)
		m.queue = slices.Insert(slices.Delete(m.queue, i, i+1), 0, e)
	}
}

func (m *refModel) get(key string) ([]byte, bool) {
	e := m.find(key)
	if e == nil {
		return nil, false
	}
	m.touch(e)
	return e.value, true
}

func (m *refModel) peek(key string) bool { return m.find(key) != nil }

// drop removes e from whichever queue holds it; SIEVE's hand moves on towards
// the head.
func (m *refModel) drop(e *modelEntry) {
	if i := slices.Index(m.small, e); i >= 0 {
		m.small = slices.Delete(m.small, i, i+1)
		return
	}
	i := slices.Index(m.queue, e)
	if m.hand == e {
		m.hand = nil
		if i > 0 {
			m.hand = m.queue[i-1]
		}
	}
	m.queue = slices.Delete(m.queue, i, i+1)
}

func (m *refModel) remove(key string) bool {
	e := m.find(key)
	if e == nil {
		return false
	}
	m.drop(e)
	return true
}

// evictOne evicts one entry other than keep, and reports false if it could
// not (only when the Store's Random draws run out or are invalid).
func (m *refModel) evictOne(keep *modelEntry) bool {
	v := m.victim(keep)
	if v == nil {
		return false
	}
	m.evicted = append(m.evicted, v.key)
	m.drop(v)
	return true
}

func (m *refModel) victim(keep *modelEntry) *modelEntry {
	switch m.policy {
	case Random:
		if len(m.random) == 0 {
			return nil
		}
		v := m.find(m.random[0])
		m.random = m.random[1:]
		if v == keep {
			return nil
		}
		return v
	case SIEVE:
		i := len(m.queue) - 1
		if m.hand != nil {
			i = slices.Index(m.queue, m.hand)
		}
		for {
			o := m.queue[i]
			if o.freq == 0 && o != keep {
				m.hand = o
				return o
			}
			o.freq = 0
			if i--; i < 0 {
				i = len(m.queue) - 1
			}
		}
	case S3FIFO:
		return m.s3fifoVictim(keep)
	}
	v := m.queue[len(m.queue)-1]
	if v == keep {
		v = m.queue[len(m.queue)-2]
	}
	return v
}

// s3fifoVictim follows the reference S3-FIFO's rules, at the default
// parameters: evict from the small queue unless the main queue holds more than
// its share or the small queue is empty (or the main queue has nothing that may
// go), promoting entries used there at least twice, remembering the victim in
// the ghost queue; otherwise evict from the main queue, reinserting entries
// with a non-zero count and decreasing it.
func (m *refModel) s3fifoVictim(keep *modelEntry) *modelEntry {
	smallCap := int64(float64(m.capacity) * DefaultS3SmallShare)
	mainHasOther := len(m.queue) > 1 || (len(m.queue) == 1 && m.queue[0] != keep)
	fromMain := len(m.small) == 0 || m.size()-m.smallBytes() > m.capacity-smallCap
	if !fromMain || !mainHasOther {
		for len(m.small) > 0 {
			t := m.small[len(m.small)-1]
			if t.freq < DefaultS3Threshold && t != keep {
				m.ghostAdd(t.key, int64(len(t.key)+len(t.value)))
				return t
			}
			m.small = m.small[:len(m.small)-1]
			t.freq = 0
			m.queue = slices.Insert(m.queue, 0, t)
		}
	}
	for {
		t := m.queue[len(m.queue)-1]
		if t.freq == 0 && t != keep {
			return t
		}
		if t.freq > 0 {
			t.freq--
		}
		m.queue = slices.Insert(m.queue[:len(m.queue)-1], 0, t)
	}
}

// ghostAdd remembers key, of an entry of size bytes, as the newest ghost,
// first forgetting the oldest until the ghosts' sizes fit in their share of the
// capacity; a key larger than the share is not remembered.
func (m *refModel) ghostAdd(key string, size int64) {
	limit := int64(float64(m.capacity) * DefaultS3GhostShare)
	if size > limit {
		return
	}
	sum := func() (n int64) {
		for _, g := range m.ghost {
			n += m.ghostSize[g]
		}
		return n
	}
	for len(m.ghost) > 0 && sum()+size > limit {
		delete(m.ghostSize, m.ghost[0])
		m.ghost = m.ghost[1:]
	}
	m.ghost = append(m.ghost, key)
	m.ghostSize[key] = size
}

func (m *refModel) put(key string, value []byte) (evicted int, tooLarge bool) {
	if m.capacity == 0 {
		return 0, false
	}
	need := int64(len(key) + len(value))
	e := m.find(key)
	if need > m.capacity {
		if e != nil {
			m.drop(e)
		}
		return 0, true
	}
	if e != nil {
		e.value = value
		m.touch(e)
		for m.size() > m.capacity && m.evictOne(e) {
			evicted++
		}
		return evicted, false
	}
	ghost := false
	if m.policy == S3FIFO {
		if i := slices.Index(m.ghost, key); i >= 0 {
			m.ghost = slices.Delete(m.ghost, i, i+1)
			delete(m.ghostSize, key)
			ghost = true
		}
		if need > int64(float64(m.capacity)*DefaultS3SmallShare) {
			return 0, true
		}
	}
	for m.size()+need > m.capacity && m.evictOne(nil) {
		evicted++
	}
	e = &modelEntry{key: key, value: value}
	switch {
	case m.policy != S3FIFO, ghost:
		m.queue = slices.Insert(m.queue, 0, e)
	default:
		m.small = slices.Insert(m.small, 0, e)
	}
	return evicted, false
}

func (m *refModel) resize(capacity int64) (evicted int) {
	m.capacity = max(capacity, 0)
	for len(m.all()) > 0 && (m.size() > m.capacity || m.capacity == 0) && m.evictOne(nil) {
		evicted++
	}
	return evicted
}

func (m *refModel) clear() {
	m.queue, m.small, m.ghost, m.hand = nil, nil, nil, nil
	clear(m.ghostSize)
}

func (m *refModel) setPolicy(p Policy) {
	if p == m.policy {
		return
	}
	if m.policy == S3FIFO {
		m.queue = append(m.small, m.queue...)
		m.small, m.ghost = nil, nil
		clear(m.ghostSize)
	}
	for _, e := range m.queue {
		if !countsUses(m.policy) && countsUses(p) {
			e.freq = 0
		}
		if p == SIEVE {
			e.freq = min(e.freq, 1)
		}
	}
	m.hand = nil
	m.policy = p
}

func keysOf(es []*modelEntry) []string {
	var keys []string
	for _, e := range es {
		keys = append(keys, e.key)
	}
	return keys
}

// compareModel fails unless s and m hold the same entries in the same queues,
// in the same order, with the same counters, hand and ghost queue.
func compareModel(t *testing.T, s *Store, m *refModel, step int, desc string) {
	t.Helper()
	if got, want := order(s), keysOf(m.queue); !slices.Equal(got, want) {
		t.Fatalf("op %d: after %s queue = %q, want %q", step, desc, got, want)
	}
	if got, want := smallOrder(s), keysOf(m.small); !slices.Equal(got, want) {
		t.Fatalf("op %d: after %s small queue = %q, want %q", step, desc, got, want)
	}
	for _, e := range m.all() {
		if got := freqOf(s, e.key); got != int(e.freq) {
			t.Fatalf("op %d: after %s counter of %q = %d, want %d", step, desc, e.key, got, e.freq)
		}
	}
	wantHand := ""
	if m.hand != nil {
		wantHand = m.hand.key
	}
	if got := handKey(s); got != wantHand {
		t.Fatalf("op %d: after %s hand at %q, want %q", step, desc, got, wantHand)
	}
	var wantGhost []uint64
	for _, k := range m.ghost {
		wantGhost = append(wantGhost, fingerprint(s.hash(k)))
	}
	if got := ghostHashes(&s.ghost); !slices.Equal(got, wantGhost) {
		t.Fatalf("op %d: after %s ghost = %x, want %x (keys %q)", step, desc, got, wantGhost, m.ghost)
	}
	if s.Size() != m.size() {
		t.Fatalf("op %d: after %s Size() = %d, want %d", step, desc, s.Size(), m.size())
	}
}

// runModel plays ops (two bytes each) against a Store and the model, starting
// with policy p, and fails on the first difference in results, victims,
// contents, order or policy state.
func runModel(t *testing.T, p Policy, capacity int64, ops []byte) {
	t.Helper()
	s := NewStore(capacity, p, 1)
	var victims []string
	s.SetOnEvict(func(key string, _ []byte) { victims = append(victims, key) })
	m := newModel(p, capacity)
	for i := 0; i+1 < len(ops); i += 2 {
		op, arg := ops[i], ops[i+1]
		key := string(rune('a' + arg%12))
		if arg%12 == 11 {
			key = ""
		}
		victims, m.evicted = victims[:0], nil
		// The store moves first, so that the model can follow Random's draws.
		follow := func() { m.random = slices.Clone(victims) }
		var desc string
		switch op % 8 {
		case 0, 1, 2: // put
			value := make([]byte, int(op/8)%40)
			desc = fmt.Sprintf("Put(%q, %d bytes)", key, len(value))
			n, err := s.Put(key, value)
			follow()
			wantN, wantTooLarge := m.put(key, value)
			if n != wantN || errors.Is(err, ErrTooLarge) != wantTooLarge || (err != nil && !wantTooLarge) {
				t.Fatalf("op %d: %s = %d, %v; want %d, too large %v", i/2, desc, n, err, wantN, wantTooLarge)
			}
		case 3, 4: // get
			desc = fmt.Sprintf("Get(%q)", key)
			v, ok := s.Get(key)
			want, wantOK := m.get(key)
			if ok != wantOK || len(v) != len(want) {
				t.Fatalf("op %d: %s = %d bytes, %v; want %d bytes, %v", i/2, desc, len(v), ok, len(want), wantOK)
			}
		case 5: // peek
			desc = fmt.Sprintf("Peek(%q)", key)
			if _, ok := s.Peek(key); ok != m.peek(key) {
				t.Fatalf("op %d: %s = %v, want %v", i/2, desc, ok, !ok)
			}
		case 6: // remove
			desc = fmt.Sprintf("Remove(%q)", key)
			if got, want := s.Remove(key), m.remove(key); got != want {
				t.Fatalf("op %d: %s = %v, want %v", i/2, desc, got, want)
			}
		case 7: // resize, now and then clear or switch policy
			switch op / 8 % 8 {
			case 0:
				desc = "Clear()"
				s.Clear()
				m.clear()
			case 1:
				q := Policy(op / 64)
				desc = fmt.Sprintf("SetPolicy(%v)", q)
				s.SetPolicy(q)
				m.setPolicy(q)
			default:
				c := int64(op/8) * 3 % 150
				desc = fmt.Sprintf("Resize(%d)", c)
				n := s.Resize(c)
				follow()
				if want := m.resize(c); n != want {
					t.Fatalf("op %d: %s = %d, want %d", i/2, desc, n, want)
				}
			}
		}
		if !slices.Equal(victims, m.evicted) {
			t.Fatalf("op %d: %s evicted %q, want %q", i/2, desc, victims, m.evicted)
		}
		checkStore(t, s)
		compareModel(t, s, m, i/2, desc)
	}
}

func TestStoreMatchesModel(t *testing.T) {
	for _, p := range Policies() {
		t.Run(p.String(), func(t *testing.T) {
			for seed := range uint64(50) {
				t.Run(fmt.Sprint(seed), func(t *testing.T) {
					r := rand.New(rand.NewPCG(seed, uint64(p)))
					ops := make([]byte, 2000)
					for i := range ops {
						ops[i] = byte(r.Uint32())
					}
					runModel(t, p, int64(r.IntN(200))-10, ops)
				})
			}
		})
	}
}

func FuzzStore(f *testing.F) {
	for _, p := range Policies() {
		f.Add(uint8(p), int64(100), []byte{0, 1, 8, 2, 16, 3, 3, 1, 24, 4, 6, 2})
		f.Add(uint8(p), int64(0), []byte{0, 1, 3, 1})
		f.Add(uint8(p), int64(40), []byte{255, 1, 7, 9, 0, 2, 7, 0})
		// Fill, use some, overflow, bring an evicted key back, switch policy.
		f.Add(uint8(p), int64(60), []byte{80, 0, 80, 1, 80, 2, 80, 3, 80, 4, 3, 0, 3, 2, 80, 5, 80, 6, 80, 1, 15, 0, 80, 7, 207, 0})
	}
	f.Fuzz(func(t *testing.T, policy uint8, capacity int64, ops []byte) {
		runModel(t, Policy(policy%4), capacity%300, ops)
	})
}
