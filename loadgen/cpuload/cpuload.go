// Package cpuload measures how busy the machine's CPUs are and how much of that work belongs to
// processes other than the harness and its services, from Linux's /proc.
package cpuload

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrFormat reports a /proc file that does not read as expected.
var ErrFormat = errors.New("unexpected /proc format")

// Sampler reads the CPU time of the whole machine and of a set of processes: loadgen itself and
// the services it started. It is immutable and safe for concurrent use.
type Sampler struct {
	proc string
	pids []int
}

// New returns a sampler reading proc (normally "/proc"; "" means that) for this process and the
// processes pids.
func New(proc string, pids ...int) *Sampler {
	if proc == "" {
		proc = "/proc"
	}
	return &Sampler{proc: proc, pids: append([]int{os.Getpid()}, pids...)}
}

// Snapshot is the CPU time counters at one moment, in clock ticks.
type Snapshot struct {
	OK    bool   // false when /proc/stat could not be read; the rest is then zero
	CPUs  int    // CPUs listed in /proc/stat
	Total uint64 // every CPU's time, busy or idle
	Idle  uint64 // idle and waiting for I/O
	// Own is the user and system time of each sampled process by pid; a process that cannot be
	// read (it has exited) is left out.
	Own map[int]uint64
}

// Snapshot reads the counters now.
func (s *Sampler) Snapshot() Snapshot {
	b, err := os.ReadFile(filepath.Join(s.proc, "stat"))
	if err != nil {
		return Snapshot{}
	}
	snap, err := ParseStat(b)
	if err != nil {
		return Snapshot{}
	}
	snap.Own = make(map[int]uint64, len(s.pids))
	for _, pid := range s.pids {
		b, err := os.ReadFile(filepath.Join(s.proc, strconv.Itoa(pid), "stat"))
		if err != nil {
			continue
		}
		if t, err := ParsePidStat(b); err == nil {
			snap.Own[pid] = t
		}
	}
	return snap
}

// Usage is the CPU use between two snapshots, in CPUs: 1 is one CPU busy the whole time.
type Usage struct {
	OK      bool
	CPUs    int
	Busy    float64 // all work on the machine
	Own     float64 // the sampled processes' work
	Outside float64 // the rest: Busy - Own, never below 0
}

// Between returns the use from a to b. Processes read at both ends count as own; their time is
// also part of Busy, so Outside is what every other process did.
func Between(a, b Snapshot) Usage {
	if !a.OK || !b.OK || b.Total <= a.Total || b.CPUs == 0 || b.Idle < a.Idle {
		return Usage{}
	}
	total := float64(b.Total - a.Total)
	perCPU := total / float64(b.CPUs) // ticks that one CPU had between a and b
	busyTicks := total - float64(b.Idle-a.Idle)
	var own uint64
	for pid, t := range b.Own {
		if t0, ok := a.Own[pid]; ok && t >= t0 {
			own += t - t0
		}
	}
	u := Usage{OK: true, CPUs: b.CPUs, Busy: busyTicks / perCPU, Own: float64(own) / perCPU}
	u.Outside = max(u.Busy-u.Own, 0)
	return u
}

// ParseStat reads /proc/stat: the aggregate "cpu" line and the count of "cpuN" lines. Guest
// time is already part of user time, so it is not added again.
func ParseStat(b []byte) (Snapshot, error) {
	var snap Snapshot
	found := false
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			if _, err := strconv.Atoi(f[0][3:]); err == nil {
				snap.CPUs++
			}
			continue
		}
		if len(f) < 5 {
			return Snapshot{}, fmt.Errorf("cpu line has %d fields: %w", len(f), ErrFormat)
		}
		var v [8]uint64 // user nice system idle iowait irq softirq steal
		for i := 1; i < len(f) && i <= len(v); i++ {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return Snapshot{}, fmt.Errorf("cpu line field %d %q: %w", i, f[i], ErrFormat)
			}
			v[i-1] = n
		}
		for _, n := range v {
			if snap.Total+n < snap.Total {
				return Snapshot{}, fmt.Errorf("cpu line overflows: %w", ErrFormat)
			}
			snap.Total += n
		}
		snap.Idle = v[3] + v[4]
		found = true
	}
	if !found || snap.CPUs == 0 {
		return Snapshot{}, fmt.Errorf("no cpu lines: %w", ErrFormat)
	}
	snap.OK = true
	return snap, nil
}

// ParsePidStat returns the user plus system time of /proc/PID/stat, in clock ticks. The command
// name, in parentheses, may hold spaces and parentheses itself: the fields are counted from the
// last closing parenthesis.
func ParsePidStat(b []byte) (uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name: %w", ErrFormat)
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state (field 3) ... utime (field 14), stime (field 15).
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("%d fields after the name: %w", len(f), ErrFormat)
	}
	u, err1 := strconv.ParseUint(f[utime], 10, 64)
	s, err2 := strconv.ParseUint(f[stime], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("utime %q, stime %q: %w", f[utime], f[stime], ErrFormat)
	}
	if u+s < u {
		return 0, fmt.Errorf("utime + stime overflows: %w", ErrFormat)
	}
	return u + s, nil
}
