package pool

import (
	"fmt"
	"sync"
	"testing"
)

// testMembers are members 1..n at addresses nothing dials: these tests only route.
func testMembers(n int) []Member {
	out := make([]Member, n)
	for i := range out {
		out[i] = Member{ID: int64(i + 1), URL: fmt.Sprintf("http://127.0.0.%d:5001", i+1)}
	}
	return out
}

// keyOwnedBy finds a key whose owner in p is id.
func keyOwnedBy(t *testing.T, p *Pool, id int64) string {
	t.Helper()
	for i := range 10_000 {
		k := fmt.Sprintf("key-%d", i)
		if m, _ := p.Owner(k); m.ID == id {
			return k
		}
	}
	t.Fatalf("no key owned by %d", id)
	return ""
}

// TestLeaverClosesAfterItsCalls: a member that leaves keeps its client while a call is in flight on
// it, closes when that call ends, and is never handed to a call after that.
func TestLeaverClosesAfterItsCalls(t *testing.T) {
	p := New(Options{Replicas: 50})
	defer p.Close()
	if err := p.SetMembers(testMembers(3)); err != nil {
		t.Fatal(err)
	}
	key := keyOwnedBy(t, p, 3)
	inFlight, err := p.pick(key)
	if err != nil || inFlight.ID != 3 {
		t.Fatalf("pick(%q) = %v, %v; want member 3", key, inFlight, err)
	}
	stayer, _ := p.pick(keyOwnedBy(t, p, 1))
	stayer.release()

	if err := p.SetMembers(testMembers(2)); err != nil {
		t.Fatal(err)
	}
	if got := inFlight.refs.Load(); got != 1 {
		t.Errorf("refs of the leaver with one call in flight = %d, want 1 (the call, no longer the membership)", got)
	}
	if n, _ := p.pick(key); n == inFlight {
		t.Errorf("pick(%q) after member 3 left = the leaver, want a remaining member", key)
	} else {
		n.release()
	}
	inFlight.release()
	if got := inFlight.refs.Load(); got != 0 {
		t.Errorf("refs of the leaver after its call = %d, want 0 (closed)", got)
	}
	if inFlight.acquire() {
		t.Errorf("a closed node was acquired")
	}

	// The member that stayed kept its node, and so its client and connections.
	if n, _ := p.pick(keyOwnedBy(t, p, 1)); n != stayer {
		t.Errorf("member 1 has a new node after a change that kept it")
	} else {
		n.release()
	}

	// A member that comes back at a new address gets a new client; the old one closes.
	moved := testMembers(2)
	moved[0].URL = "http://127.0.0.9:5001"
	if err := p.SetMembers(moved); err != nil {
		t.Fatal(err)
	}
	if got := stayer.refs.Load(); got != 0 {
		t.Errorf("refs of member 1's old node after its URL changed = %d, want 0", got)
	}

	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range p.ring.Load().members {
		t.Errorf("member %d still on the ring of a closed pool", n.ID)
	}
}

// TestConcurrentCallsAndChanges: calls pick nodes while the set changes under them. No call may get
// a closed node, and once everything stops every node that left is closed. Run with -race.
func TestConcurrentCallsAndChanges(t *testing.T) {
	p := New(Options{Replicas: 20})
	sets := [][]Member{testMembers(4), testMembers(2), testMembers(3)[1:], testMembers(1)}
	if err := p.SetMembers(sets[0]); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen = map[*node]bool{}
		wg   sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				var nodes []*node
				if i%10 == 0 {
					_, all, err := p.all()
					if err != nil {
						t.Errorf("all: %v", err)
						return
					}
					nodes = all
				} else {
					n, err := p.pick(fmt.Sprintf("%d-%d", w, i))
					if err != nil {
						t.Errorf("pick: %v", err)
						return
					}
					nodes = []*node{n}
				}
				for _, n := range nodes {
					if n.refs.Load() < 1 {
						t.Errorf("member %d handed to a call with no reference", n.ID)
					}
					mu.Lock()
					seen[n] = true
					mu.Unlock()
					n.release()
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	changes := 0
	for running := true; running; changes++ {
		select {
		case <-done:
			running = false
		default:
		}
		if err := p.SetMembers(sets[changes%len(sets)]); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d changes of the set during the calls", changes)
	current := map[*node]bool{}
	for _, n := range p.ring.Load().members {
		current[n] = true
	}
	for n := range seen {
		if want := map[bool]int64{true: 1, false: 0}[current[n]]; n.refs.Load() != want {
			t.Errorf("member %d (current %v): refs = %d, want %d", n.ID, current[n], n.refs.Load(), want)
		}
	}
	p.Close()
	for n := range seen {
		if got := n.refs.Load(); got != 0 {
			t.Errorf("member %d after Close: refs = %d, want 0", n.ID, got)
		}
	}
}

// TestVirtualNodesOwnTheirPoints: names whose digits run into the replica number ("1"+"11" and
// "11"+"1") must still give every virtual node a point of its own, or some members would quietly
// lose part of their share to others.
func TestVirtualNodesOwnTheirPoints(t *testing.T) {
	const replicas = 1000
	for _, ids := range [][]int64{{1, 11, 111}, {2, 12, 112}, {1, 2, 3, 4, 5, 6, 7, 8}} {
		t.Run(fmt.Sprint(ids), func(t *testing.T) {
			nodes := make([]*node, len(ids))
			for i, id := range ids {
				nodes[i] = &node{Member: Member{ID: id}}
			}
			if got, want := newRing(nodes, replicas).points, len(ids)*replicas; got != want {
				t.Errorf("%d distinct points, want %d (one per virtual node)", got, want)
			}
		})
	}
}
