package pin

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Allowed returns the CPUs this process may run on.
func Allowed() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	return cpusOf(&set), nil
}

func cpusOf(set *unix.CPUSet) []int {
	var out []int
	for c := range 8 * 1024 { // CPUSet's capacity
		if set.IsSet(c) {
			out = append(out, c)
		}
	}
	return out
}

// Process confines every thread of process pid (0: this one) to cpus. A thread inherits its
// creator's CPUs, so threads started later stay within them; the threads are listed again until
// a pass finds none new, for those started during a pass.
func Process(pid int, cpus []int) error {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	dir := "/proc/self/task"
	if pid != 0 {
		dir = filepath.Join("/proc", strconv.Itoa(pid), "task")
	}
	done := map[int]bool{}
	for range 10 {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("pin: %w", err)
		}
		fresh := 0
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH { // ESRCH: the thread ended
				return fmt.Errorf("pin thread %d to %v: %w", tid, cpus, err)
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}

// Of returns the CPUs thread tid may run on, for tests.
func Of(tid int) ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &set); err != nil {
		return nil, err
	}
	return cpusOf(&set), nil
}
