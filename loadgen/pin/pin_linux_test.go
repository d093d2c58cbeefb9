package pin

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// A child process confined to one CPU has every thread there; the CPUs of this process are
// restored after.
func TestProcess(t *testing.T) {
	cpus, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) < 2 {
		t.Skip("fewer than 2 CPUs: nothing to pin apart")
	}
	// The test binary itself as a child with several threads: it waits on stdin.
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWait$")
	cmd.Env = append(os.Environ(), "PIN_HELPER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	one := cpus[len(cpus)-1:]
	if err := Process(cmd.Process.Pid, one); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "task"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		got, err := Of(tid)
		if err == nil && !slices.Equal(got, one) {
			t.Errorf("thread %d on %v, want %v", tid, got, one)
		}
	}
	// This process: to one CPU and back.
	defer Process(0, cpus)
	if err := Process(0, cpus[:1]); err != nil {
		t.Fatal(err)
	}
	if got, _ := Allowed(); !slices.Equal(got, cpus[:1]) {
		t.Errorf("after pinning this process: %v, want %v", got, cpus[:1])
	}
}

// TestHelperWait is the child of TestProcess: it waits until its stdin closes.
func TestHelperWait(t *testing.T) {
	if os.Getenv("PIN_HELPER") != "1" {
		t.Skip("helper process only")
	}
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
}
