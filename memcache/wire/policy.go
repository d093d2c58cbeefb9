package wire

import (
	"errors"
	"fmt"
	"strings"
)

// Replacement policies by the name stored in cache_properties.replacement_method, which the
// service applies and /stats reports.
const (
	PolicyLRU    = "Least Recently Used"
	PolicyRandom = "Random Replacement"
	PolicySIEVE  = "SIEVE"
	PolicyS3FIFO = "S3-FIFO"
)

// PolicyInfo describes a replacement policy for the people and programs that choose one.
type PolicyInfo struct {
	Name    string   // the stored name
	Short   string   // what forms and flags use
	Label   string   // how pages name it
	Aliases []string // other names accepted as input, lower case
}

// Policies lists every replacement policy the service offers, in the order pages show them.
func Policies() []PolicyInfo {
	return []PolicyInfo{
		{Name: PolicyLRU, Short: "LRU", Label: "Least Recently Used (LRU)", Aliases: []string{"lru"}},
		{Name: PolicyRandom, Short: "Random", Label: "Random Replacement", Aliases: []string{"rr", "random"}},
		{Name: PolicySIEVE, Short: "SIEVE", Label: "SIEVE", Aliases: []string{"sieve"}},
		{Name: PolicyS3FIFO, Short: "S3-FIFO", Label: "S3-FIFO", Aliases: []string{"s3-fifo", "s3fifo"}},
	}
}

// ParsePolicy returns the stored name of the policy s names: a stored name, a short name or an
// alias, ignoring case and surrounding space.
func ParsePolicy(s string) (PolicyInfo, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	for _, p := range Policies() {
		if in == strings.ToLower(p.Name) || in == strings.ToLower(p.Short) {
			return p, nil
		}
		for _, a := range p.Aliases {
			if in == a {
				return p, nil
			}
		}
	}
	return PolicyInfo{}, fmt.Errorf("%w: unknown replacement policy %q", ErrUnknownPolicy, s)
}

// ErrUnknownPolicy is returned (wrapped) by ParsePolicy.
var ErrUnknownPolicy = errors.New("unknown replacement policy")

// The configuration the service applies while the database holds no cache_properties row.
const (
	DefaultCapacityMB = 10
	DefaultPolicy     = PolicyLRU
)
