package mrc

import (
	"container/heap"
	"context"
	"math"
)

// never is the next use of a copy that will not be read again before a write invalidates it,
// or at all.
const never = math.MaxInt32

// nextUses returns, for each read of tr, the index of the next request of its key if that
// request is a read, else never: a copy that a write will invalidate first is worth nothing.
func nextUses(tr []Request, keys int) []int32 {
	next := make([]int32, len(tr))
	following := make([]int32, keys) // the index of the key's next request, scanning backwards
	for i := range following {
		following[i] = -1
	}
	for i := len(tr) - 1; i >= 0; i-- {
		k := tr[i].Key
		next[i] = never
		if j := following[k]; j >= 0 && !tr[j].Write {
			next[i] = j
		}
		following[k] = int32(i)
	}
	return next
}

// belady replays tr through Belady's MIN with writes as invalidations and returns the hits. A
// miss is cached only if room can be made by evicting copies whose next use is later than its
// own (those never read again go first); otherwise it is not cached at all. Of the copies so
// evicted, every one that still fits beside the new one stays. With items of one size this is
// the optimum. With sizes that differ it is not: finding the optimum is NP-hard, and an online
// policy can beat MIN on some traces (TestBeladyIsNoBound has one). It is a reference, never a
// bound; the bound the reports check against is the infinite cache's (ceiling).
func belady(ctx context.Context, tr []Request, next []int32, keys []string, capacity int64) (int64, error) {
	var (
		hits    int64
		used    int64
		nextOf  = make([]int32, len(keys)) // the resident copy's next use; -1 when not resident
		sizeOf  = make([]int64, len(keys))
		h       = &useHeap{}
		evicted []useEntry
	)
	for i := range nextOf {
		nextOf[i] = -1
	}
	valid := func(e useEntry) bool { return nextOf[e.key] == e.next }
	for i, r := range tr {
		if i%checkEvery == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		k := r.Key
		if r.Write {
			if nextOf[k] >= 0 {
				used -= sizeOf[k]
				nextOf[k] = -1
			}
			continue
		}
		nu := next[i]
		if nextOf[k] >= 0 {
			hits++
			nextOf[k] = nu
			heap.Push(h, useEntry{nu, k})
			continue
		}
		need := int64(len(keys[k])) + int64(r.Value)
		if nu == never || need > capacity {
			continue
		}
		// Evict copies used later than this one until it fits; if it cannot fit that way, put
		// them back and do not cache it.
		evicted = evicted[:0]
		for used+need > capacity && h.Len() > 0 {
			top := (*h)[0]
			if !valid(top) {
				heap.Pop(h)
				continue
			}
			if top.next <= nu {
				break
			}
			heap.Pop(h)
			evicted = append(evicted, top)
			used -= sizeOf[top.key]
			nextOf[top.key] = -1
		}
		if used+need > capacity {
			for _, e := range evicted {
				nextOf[e.key] = e.next
				used += sizeOf[e.key]
				heap.Push(h, e)
			}
			continue
		}
		nextOf[k], sizeOf[k] = nu, need
		used += need
		heap.Push(h, useEntry{nu, k})
		// Evicting in order of next use can overshoot: a large copy evicted last may make room
		// for smaller ones evicted before it. Keep every copy that still fits, the soonest used
		// first, so that the admission evicts only what it needs.
		for j := len(evicted) - 1; j >= 0; j-- {
			if e := evicted[j]; used+sizeOf[e.key] <= capacity {
				nextOf[e.key] = e.next
				used += sizeOf[e.key]
				heap.Push(h, e)
			}
		}
		if h.Len() > 4*len(keys)+1024 {
			h.compact(valid)
		}
	}
	return hits, nil
}

// useEntry is a resident copy and its next use; entries left behind by a hit or an
// invalidation are skipped when they surface.
type useEntry struct {
	next int32
	key  uint32
}

// useHeap is a max-heap of next uses: the copy used farthest in the future on top.
type useHeap []useEntry

func (h useHeap) Len() int           { return len(h) }
func (h useHeap) Less(i, j int) bool { return h[i].next > h[j].next }
func (h useHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *useHeap) Push(x any)        { *h = append(*h, x.(useEntry)) }
func (h *useHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// compact drops the stale entries and restores the heap order.
func (h *useHeap) compact(valid func(useEntry) bool) {
	kept := (*h)[:0]
	for _, e := range *h {
		if valid(e) {
			kept = append(kept, e)
		}
	}
	*h = kept
	heap.Init(h)
}

// ceiling returns the hits of an infinite cache over tr: every read but the first of its key
// and the first after each write of it. No cache of any size or policy hits more.
func ceiling(tr []Request, keys int) int64 {
	var hits int64
	held := make([]bool, keys)
	for _, r := range tr {
		switch {
		case r.Write:
			held[r.Key] = false
		case held[r.Key]:
			hits++
		default:
			held[r.Key] = true
		}
	}
	return hits
}
