package pool_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"imgcache/memcache/pool"
	"imgcache/memcache/wire"
)

// BenchmarkOwner is the routing alone: finding a key's member on the ring.
func BenchmarkOwner(b *testing.B) {
	keys := objectNames(1024, 6)
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("%d members", n), func(b *testing.B) {
			p := newRouter(b, pool.Options{}, seq(n)...)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.Owner(keys[i%len(keys)])
				i++
			}
		})
	}
}

// BenchmarkSetMembers is the cost of a change of the set: a new ring.
func BenchmarkSetMembers(b *testing.B) {
	p := newRouter(b, pool.Options{})
	sets := [][]pool.Member{members(seq(8)...), members(seq(7)...)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := p.SetMembers(sets[i%2]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkGetHit is a cache hit over HTTP to an in-process node, through a client of that node
// alone and through pools of 1 and 8 members: the difference is what the pool costs a call.
func BenchmarkGetHit(b *testing.B) {
	ctx := context.Background()
	nodes := startNodes(b, 8)
	keys := objectNames(256, 7)
	v := value(strings.Repeat("x", 1024))
	one := newPool(b, pool.Options{}, memberSet(nodes[:1]))
	eight := newPool(b, pool.Options{}, memberSet(nodes))
	for _, k := range keys {
		fill(b, ctx, eight, k, v)
		if err := nodes[0].c.Put(ctx, k, []byte(v)); err != nil {
			b.Fatal(err)
		}
	}
	cases := []struct {
		name string
		get  func(ctx context.Context, dst []byte, key string) ([]byte, wire.Lease, error)
	}{
		{"direct client", nodes[0].c.AppendGet},
		{"pool of 1", one.AppendGet},
		{"pool of 8", eight.AppendGet},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			i := 0
			for b.Loop() {
				var err error
				if buf, _, err = c.get(ctx, buf[:0], keys[i%len(keys)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
