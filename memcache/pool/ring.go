package pool

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/cespare/xxhash/v2"
	"github.com/golang/groupcache/consistenthash"
)

// DefaultReplicas is the number of virtual nodes each member gets on the ring. A member's share of
// the ring is the sum of as many random arcs, so it strays from 1/n by about 1/sqrt(replicas): 6% at
// 256, 3% at 1000, 1.6% at 4000. 10,000 keys over 8 nodes add a sampling error of 2.6% (one standard
// deviation) of their own, so a "within 10% of equal" bound leaves the ring little room. Measured
// over 20 sets of ids and pool sizes 2 to 8, the worst member's share was 17% off at 256 replicas,
// 11% at 1000 and 5.7% at 4000; for ids 1..n at 4000 it is 2.8% (TestSpread). The price is memory
// and build time, not lookup time: 8 members make 32,000 points, about 2 MB with the library's map,
// built in about 25 ms of CPU when the set changes, and a lookup is a binary search of 15 steps.
const DefaultReplicas = 4000

// hashKey places keys and virtual nodes on the ring. The library's default, crc32, is linear: the
// names of one member's virtual nodes differ in a digit or two, and their checksums clump, leaving
// key counts 20% off an equal share at 4000 replicas and 27% at 160
// (TestSpreadNeedsReplicasAndMixing). xxhash mixes every bit, is already in the module graph, and
// costs a few nanoseconds on a 36-byte name.
func hashKey(b []byte) uint32 { return uint32(xxhash.Sum64(b)) }

// ringName is a member's name on the ring. The library names virtual node i of member m
// strconv.Itoa(i)+m, so bare ids would collide ("1"+"12" and "11"+"2" are both "112", and one of the
// two members would lose the point); a non-digit prefix makes the split unambiguous. The id, not the
// URL, places a member, so a node that comes back at a new address keeps its keys.
func ringName(id int64) string { return "node-" + strconv.FormatInt(id, 10) }

// ring is an immutable routing table: the consistent-hash map over the members, the members by ring
// name, and each member's share of the hash space. A new set of members builds a new ring.
type ring struct {
	hash    *consistenthash.Map
	byName  map[string]*node
	members []*node // by id
	shares  map[int64]float64
	points  int   // distinct points on the ring: members x replicas unless two hashes collide
	err     error // what calls get when members is empty: ErrNoMembers or ErrClosed
}

// newRing builds the ring of nodes, which must be sorted by id with no id twice. Every backend must
// place a key on the same member, so the ring depends on the set of ids only: points are added in id
// order, which settles a collision of two points (the later member wins, as in the library) the same
// way everywhere.
func newRing(nodes []*node, replicas int) *ring {
	r := &ring{byName: make(map[string]*node, len(nodes)), members: nodes, shares: make(map[int64]float64, len(nodes))}
	if len(nodes) == 0 {
		r.err = ErrNoMembers
		return r
	}
	// The library keeps its points to itself; recording what it hashes while it adds the members gives
	// them exactly, for Shares, without copying its naming scheme. Add hashes member after member,
	// each one's replicas in turn, so point j belongs to member j/replicas. Nothing records once the
	// ring is published, so lookups read the flag without a race. One Add for all members sorts the
	// points once rather than once per member.
	points := make([]uint32, 0, len(nodes)*replicas)
	recording := true
	r.hash = consistenthash.New(replicas, func(b []byte) uint32 {
		h := hashKey(b)
		if recording {
			points = append(points, h)
		}
		return h
	})
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = ringName(n.ID)
		r.byName[names[i]] = n
	}
	r.hash.Add(names...)
	recording = false

	// Where two points coincide the library keeps the member added later, so sort by point and then
	// by order of addition, and let the last of equal points own the arc. A point owns the arc from
	// the point before it (exclusive) up to itself: the library sends a key to the first point at or
	// after its hash, wrapping around.
	order := make([]int, len(points))
	for j := range order {
		order[j] = j
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(cmp.Compare(points[a], points[b]), cmp.Compare(a, b)) })
	prev := points[order[len(order)-1]]
	for k, j := range order {
		if k+1 < len(order) && points[order[k+1]] == points[j] {
			continue // a later member took this point
		}
		r.points++
		h := points[j]
		id := nodes[j/replicas].ID
		if arc := h - prev; arc != 0 { // modulo 2^32: the first point's arc wraps around
			r.shares[id] += float64(arc) / (1 << 32)
		} else {
			r.shares[id] = 1 // a single point owns the whole ring
		}
		prev = h
	}
	return r
}

// owner returns the node key belongs to, or nil when the ring is empty.
func (r *ring) owner(key string) *node {
	if len(r.members) == 0 {
		return nil
	}
	return r.byName[r.hash.Get(key)]
}
