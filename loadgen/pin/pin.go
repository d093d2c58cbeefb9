// Package pin places loadgen and the services it starts on disjoint CPUs (Linux's
// sched_setaffinity), so that the load generator does not compete for the CPUs it measures.
package pin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnsupported reports a system where CPUs cannot be assigned, or too few of them.
var ErrUnsupported = errors.New("cannot pin")

// Plan is who runs where.
type Plan struct {
	Loadgen  []int // CPUs of loadgen (its proxy too)
	Services []int // CPUs of the backends, memcache nodes and S3 server
}

// Split divides cpus (at least two) between loadgen, a third of them (at least one, the last
// ones), and the services, the rest: the services do most of the work of a step.
func Split(cpus []int) (Plan, error) {
	if len(cpus) < 2 {
		return Plan{}, fmt.Errorf("%d CPUs allowed, need at least 2: %w", len(cpus), ErrUnsupported)
	}
	n := max(1, len(cpus)/3)
	k := len(cpus) - n
	return Plan{Loadgen: append([]int(nil), cpus[k:]...), Services: append([]int(nil), cpus[:k]...)}, nil
}

// String describes the plan for reports: "loadgen on CPU 1, the services on CPU 0".
func (p Plan) String() string {
	return fmt.Sprintf("loadgen on %s, the services on %s (sched_setaffinity)", cpuList(p.Loadgen), cpuList(p.Services))
}

func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	if len(cpus) == 1 {
		return "CPU " + s[0]
	}
	return "CPUs " + strings.Join(s, ",")
}
