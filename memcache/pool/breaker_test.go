package pool_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"imgcache/memcache/client"
	"imgcache/memcache/pool"
	"imgcache/memcache/wire"
)

// relay forwards TCP connections to a target until hung: then it drops the connections it has and
// holds new ones without a byte either way, as a stopped process or a cut link does.
type relay struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	hung  bool
	conns []net.Conn
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: target}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		r.drop()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			hung := r.hung
			r.mu.Unlock()
			if hung {
				continue // held until drop
			}
			wg.Go(func() {
				up, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					return
				}
				r.mu.Lock()
				r.conns = append(r.conns, up)
				r.mu.Unlock()
				wg.Go(func() { io.Copy(up, c); up.Close() })
				io.Copy(c, up)
				c.Close()
			})
		}
	})
	return r
}

func (r *relay) url() string { return "http://" + r.ln.Addr().String() }

func (r *relay) drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

func (r *relay) setHung(h bool) {
	r.mu.Lock()
	r.hung = h
	r.mu.Unlock()
	r.drop()
}

func breakerOf(p *pool.Pool, id int64) pool.BreakerState {
	for _, b := range p.Breakers() {
		if b.Member.ID == id {
			return b.State
		}
	}
	return -1
}

// TestBreakerEjectsAHungNode: a node that stops answering fails EjectAfter calls on their short
// deadline, then is ejected: calls fail at once with ErrEjected, without reaching it. Once it
// answers again, a probe brings it back and its keys hit again.
func TestBreakerEjectsAHungNode(t *testing.T) {
	nodes := startNodes(t, 1)
	r := startRelay(t, nodes[0].srv.URL()[len("http://"):])
	p := newPool(t, pool.Options{Node: client.Options{Timeout: 50 * time.Millisecond}, EjectAfter: 3, ProbeEvery: time.Second},
		[]pool.Member{{ID: 1, URL: r.url()}})
	ctx := context.Background()
	fill(t, ctx, p, "k", value("v"))
	if _, _, err := p.AppendGet(ctx, nil, "k"); err != nil {
		t.Fatalf("get before the fault: %v", err)
	}

	r.setHung(true)
	for i := range 3 {
		_, _, err := p.AppendGet(ctx, nil, "k")
		if !errors.Is(err, wire.ErrUnavailable) || errors.Is(err, pool.ErrEjected) {
			t.Fatalf("get %d of a hung node = %v, want unavailable (sent, and failed)", i, err)
		}
	}
	if got := breakerOf(p, 1); got != pool.BreakerOpen && got != pool.BreakerProbing {
		t.Fatalf("breaker after 3 failures: %v, want ejected", got)
	}
	_, _, err := p.AppendGet(ctx, nil, "k")
	var ne *pool.NodeError
	if !errors.Is(err, pool.ErrEjected) || !errors.As(err, &ne) || ne.Member.ID != 1 {
		t.Fatalf("get of an ejected node = %v, want ErrEjected from node 1", err)
	}

	r.setHung(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, err := p.AppendGet(ctx, nil, "k")
		if err == nil || errors.Is(err, wire.ErrMiss) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node answers again but the pool still fails after 10 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := breakerOf(p, 1); got != pool.BreakerClosed {
		t.Errorf("breaker after the node came back: %v, want closed", got)
	}
}
