package pin

import (
	"errors"
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		cpus              []int
		loadgen, services []int
	}{
		{[]int{0, 1}, []int{1}, []int{0}},
		{[]int{0, 1, 2, 3, 4, 5}, []int{4, 5}, []int{0, 1, 2, 3}},
		{[]int{2, 5, 7}, []int{7}, []int{2, 5}},
	} {
		p, err := Split(tc.cpus)
		if err != nil || !slices.Equal(p.Loadgen, tc.loadgen) || !slices.Equal(p.Services, tc.services) {
			t.Errorf("Split(%v) = %+v, %v; want loadgen %v, services %v", tc.cpus, p, err, tc.loadgen, tc.services)
		}
	}
	if _, err := Split([]int{0}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("one CPU: %v", err)
	}
	p, _ := Split([]int{0, 1, 2})
	if got, want := p.String(), "loadgen on CPU 2, the services on CPUs 0,1 (sched_setaffinity)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
