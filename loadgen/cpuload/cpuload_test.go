package cpuload

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

const statFmt = `cpu  %d 0 %d %d %d 0 0 0 0 0
cpu0 1 0 1 1 0 0 0 0 0 0
cpu1 1 0 1 1 0 0 0 0 0 0
intr 12345
ctxt 6789
`

// fakeProc writes a /proc with the given machine counters and process times.
func fakeProc(t *testing.T, dir string, user, system, idle, iowait uint64, procs map[int]uint64) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "stat"), fmt.Appendf(nil, statFmt, user, system, idle, iowait), 0o644); err != nil {
		t.Fatal(err)
	}
	for pid, ticks := range procs {
		d := filepath.Join(dir, strconv.Itoa(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		// utime is field 14, stime field 15; a name with spaces and a parenthesis.
		line := fmt.Sprintf("%d (a (b) c) S 1 1 1 0 -1 4194304 100 0 0 0 %d %d 0 0 20 0 1 0 100 1000 100\n", pid, ticks, 0)
		if err := os.WriteFile(filepath.Join(d, "stat"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBetween(t *testing.T) {
	dir := t.TempDir()
	self := os.Getpid()
	s := New(dir, 101, 102)
	// 2 CPUs, 1000 ticks later: 1600 busy of 2000 = 1.6 CPUs; own 500 + 300 + 200 = 1000 ticks =
	// 1.0 CPU; outside 0.6 CPU. Process 102 exits before the second reading.
	fakeProc(t, dir, 1000, 1000, 5000, 0, map[int]uint64{self: 100, 101: 1000, 102: 50})
	a := s.Snapshot()
	if err := os.RemoveAll(filepath.Join(dir, "102")); err != nil {
		t.Fatal(err)
	}
	fakeProc(t, dir, 2000, 1600, 5300, 100, map[int]uint64{self: 600, 101: 1500})
	b := s.Snapshot()
	u := Between(a, b)
	want := Usage{OK: true, CPUs: 2, Busy: 1.6, Own: 1.0, Outside: 0.6}
	if !u.OK || u.CPUs != 2 || math.Abs(u.Busy-want.Busy) > 1e-9 || math.Abs(u.Own-want.Own) > 1e-9 || math.Abs(u.Outside-want.Outside) > 1e-9 {
		t.Errorf("Between = %+v, want %+v", u, want)
	}
}

func TestBetweenUnreadable(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "absent"))
	a, b := s.Snapshot(), s.Snapshot()
	if a.OK || Between(a, b).OK {
		t.Errorf("snapshots of a missing /proc: %+v, usage %+v; want not OK", a, Between(a, b))
	}
}

// On Linux, work done by this process shows as own work and as part of the machine's busy time.
// The test burns a fixed amount of CPU time, measured by the kernel, not by a clock.
func TestLiveProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux's /proc")
	}
	s := New("")
	a := s.Snapshot()
	if !a.OK {
		t.Fatal("cannot read /proc/stat")
	}
	start := a.Own[os.Getpid()]
	x := 0.0
	for s.Snapshot().Own[os.Getpid()] < start+20 { // 20 ticks: 0.2 s of CPU at the usual 100 Hz
		for i := range 100000 {
			x += math.Sqrt(float64(i))
		}
	}
	b := s.Snapshot()
	u := Between(a, b)
	ownTicks := float64(b.Own[os.Getpid()] - start)
	perCPU := float64(b.Total-a.Total) / float64(b.CPUs)
	if !u.OK || u.Own < 0.99*ownTicks/perCPU || u.Busy+0.05 < u.Own || u.CPUs != runtime.NumCPU() {
		t.Errorf("usage %+v after %g own ticks (%v); want own work counted within busy, %d CPUs", u, ownTicks, x > 0, runtime.NumCPU())
	}
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		total uint64
		idle  uint64
		cpus  int
		err   bool
	}{
		{"linux", "cpu  10 1 5 100 4 1 1 2 7 0\ncpu0 1 1 1 1 1 1 1 1\ncpu1 1 1 1 1\n", 124, 104, 2, false},
		{"old kernel, four fields", "cpu 1 2 3 4\ncpu0 1 2 3 4\n", 10, 4, 1, false},
		{"no per-CPU lines", "cpu 1 2 3 4 5\n", 0, 0, 0, true},
		{"garbage", "cpu a b c d\ncpu0 1 1 1 1\n", 0, 0, 0, true},
		{"empty", "", 0, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseStat([]byte(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("ParseStat error = %v, want error %v", err, tc.err)
			}
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Errorf("error %v is not ErrFormat", err)
				}
				return
			}
			if s.Total != tc.total || s.Idle != tc.idle || s.CPUs != tc.cpus {
				t.Errorf("ParseStat = total %d, idle %d, %d CPUs; want %d, %d, %d", s.Total, s.Idle, s.CPUs, tc.total, tc.idle, tc.cpus)
			}
		})
	}
}

func TestParsePidStat(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want uint64
		err  bool
	}{
		{"plain", "42 (backend) S 1 42 42 0 -1 4194560 1 0 0 0 250 50 0 0 20 0 8 0 1 1 1", 300, false},
		{"name with ') ' in it", "42 (a) b) R 1 42 42 0 -1 4194560 1 0 0 0 7 3 0 0", 10, false},
		{"short", "42 (x) S 1 2 3", 0, true},
		{"no name", "42 x S 1 2 3 4 5 6 7 8 9 10 11 12 13", 0, true},
		{"negative", "42 (x) S 1 42 42 0 -1 4194560 1 0 0 0 -7 3", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePidStat([]byte(tc.in))
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ParsePidStat = %d, %v; want %d, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// The parsers read files that other processes shape (a command name is anyone's choice): they
// must never panic, and what they accept must be consistent.
func FuzzParsePidStat(f *testing.F) {
	f.Add([]byte("42 (backend) S 1 42 42 0 -1 4194560 1 0 0 0 250 50 0 0 20 0 8 0 1 1 1"))
	f.Add([]byte("1 ()) ) R 0 0 0 0 0 0 0 0 0 0 18446744073709551615 1"))
	f.Add([]byte(")"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParsePidStat(b); err != nil && !errors.Is(err, ErrFormat) {
			t.Errorf("error %v is not ErrFormat", err)
		}
	})
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(statFmt, 1, 2, 3, 4)))
	f.Add([]byte("cpu 18446744073709551615 1 1 1\ncpu0 1\n"))
	f.Add([]byte("cpu\ncpux\ncpu9999999999999999999\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStat(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) || s.OK {
				t.Errorf("ParseStat = %+v, %v: want not OK and ErrFormat", s, err)
			}
			return
		}
		if !s.OK || s.CPUs < 1 || s.Idle > s.Total {
			t.Errorf("ParseStat accepted %+v", s)
		}
	})
}
