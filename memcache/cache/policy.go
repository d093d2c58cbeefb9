package cache

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"imgcache/memcache/wire"
)

// MB is the unit in which the memcache configuration states capacity: the
// cache_properties table and the properties page give capacity in MB of 2^20
// bytes.
const MB = 1 << 20

// Defaults used by New when the matching Config field is zero.
const (
	// DefaultCapacity is the capacity of a new Cache, in bytes.
	DefaultCapacity = 10 * MB
	// DefaultMaxLeases bounds the outstanding lease table.
	DefaultMaxLeases = 65536
)

var (
	// ErrTooLarge is returned when an entry (key plus value) is larger than the
	// whole capacity. It is a refusal, not a failure: the value simply is not cached.
	ErrTooLarge = errors.New("entry larger than cache capacity")
	// ErrLeaseRevoked is returned by Fill when its lease is no longer the
	// outstanding one for the key, so the value may be stale. It is the
	// protocol's error, which the service answers with 409.
	ErrLeaseRevoked = wire.ErrLeaseRevoked
	// ErrUnknownPolicy is returned by ParsePolicy for a name it does not know.
	ErrUnknownPolicy = errors.New("unknown replacement policy")
)

// Policy is a replacement policy: which entry leaves when room is needed.
type Policy uint8

// The replacement policies. The zero value is LRU, the default.
const (
	// LRU evicts the least recently used entry; a Get or Put is a use.
	LRU Policy = iota
	// Random evicts a uniformly random resident entry.
	Random
	// SIEVE keeps entries in insertion order and evicts the first entry not
	// used since a moving hand last passed it (see sieve.go).
	SIEVE
	// S3FIFO filters new entries through a small FIFO queue, keeps those used
	// again in a main FIFO queue with reinsertion, and remembers recent
	// evictions in a ghost queue (see s3fifo.go).
	S3FIFO
	// FIFO evicts the oldest entry; a use changes nothing. It is a baseline for
	// the offline simulator (loadgen simulate), not one of the service's
	// policies: Policies leaves it out, and the wire contract does not name it.
	FIFO
)

// Policies returns every policy the memcache service offers, in the order of
// their values. FIFO, offered to simulations only, is not among them.
func Policies() []Policy { return []Policy{LRU, Random, SIEVE, S3FIFO} }

// String returns the policy's name as stored in the database.
func (p Policy) String() string {
	switch p {
	case LRU:
		return "Least Recently Used"
	case Random:
		return "Random Replacement"
	case SIEVE:
		return "SIEVE"
	case S3FIFO:
		return "S3-FIFO"
	case FIFO:
		return "FIFO"
	}
	return "Policy(" + strconv.Itoa(int(p)) + ")"
}

// MarshalText encodes the policy as its database name, so Stats encode readably.
// FIFO, which the service never runs, has none.
func (p Policy) MarshalText() ([]byte, error) {
	if p > S3FIFO {
		return nil, fmt.Errorf("marshal %v: %w", p, ErrUnknownPolicy)
	}
	return []byte(p.String()), nil
}

// UnmarshalText accepts every name ParsePolicy accepts.
func (p *Policy) UnmarshalText(b []byte) error {
	q, err := ParsePolicy(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParsePolicy reads a policy name, ignoring case and surrounding space. It
// accepts the database names ("Least Recently Used", "Random Replacement",
// "SIEVE", "S3-FIFO") and the short forms "LRU", "RR", "Random" and "S3FIFO".
// FIFO, a policy of simulations only, is not among them.
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "least recently used", "lru":
		return LRU, nil
	case "random replacement", "rr", "random":
		return Random, nil
	case "sieve":
		return SIEVE, nil
	case "s3-fifo", "s3fifo":
		return S3FIFO, nil
	}
	return LRU, fmt.Errorf("parse policy %q: %w", s, ErrUnknownPolicy)
}
