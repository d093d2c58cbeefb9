package loadgen_test

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"imgcache/loadgen"
	"imgcache/loadgen/cpuload"
	"imgcache/loadgen/loadgentest"
)

func TestMain(m *testing.M) {
	loadgentest.MaybeServe()
	os.Exit(m.Run())
}

// The test binary itself plays both services (see loadgentest.MaybeServe).
func TestStartServices(t *testing.T) {
	t.Setenv(loadgentest.ProcessEnv, "1")
	s, err := loadgen.StartServices(context.Background(), loadgen.ServicesConfig{
		BackendBin: os.Args[0], MemcacheBin: os.Args[0], Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	ctl := &loadgen.Control{BackendURL: s.BackendURL(), MemcacheURLs: []string{s.MemcacheURL()}}
	if !strings.HasPrefix(s.BackendURL(), "http://127.0.0.1:") || s.BackendURL() == s.MemcacheURL() {
		t.Errorf("URLs %s and %s, want two loopback ports", s.BackendURL(), s.MemcacheURL())
	}
	if err := ctl.Healthy(context.Background()); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	if _, err := ctl.Stats(context.Background()); err != nil {
		t.Errorf("Stats: %v", err)
	}
	if err := ctl.SetCache(context.Background(), 3, "Random"); err != nil {
		t.Errorf("SetCache through the started backend: %v", err)
	}
	// The services' CPU time must count as loadgen's own: PIDs names both running children.
	pids := s.PIDs()
	if len(pids) != 2 || pids[0] == pids[1] {
		t.Errorf("PIDs() = %v, want the two services'", pids)
	}
	if runtime.GOOS == "linux" {
		if snap := cpuload.New("", pids...).Snapshot(); len(snap.Own) != 3 {
			t.Errorf("load sampler reads %d processes (%v), want loadgen and both services", len(snap.Own), snap.Own)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary folder %s still there after Close (%v)", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := ctl.Healthy(ctx); err == nil {
		t.Error("services still answer after Close")
	}
}

func TestStartServicesFailure(t *testing.T) {
	t.Run("missing binary", func(t *testing.T) {
		_, err := loadgen.StartServices(context.Background(), loadgen.ServicesConfig{
			BackendBin: "/nonexistent/backend", MemcacheBin: os.Args[0], Logger: quiet,
		})
		if err == nil || !strings.Contains(err.Error(), "make bench") {
			t.Errorf("error %v, want one that says how to build the binaries", err)
		}
	})
	t.Run("exits at once", func(t *testing.T) {
		// Without the environment variable the test binary runs its tests instead of serving;
		// with a bad flag it exits, and the error carries its log.
		t.Setenv(loadgentest.ProcessEnv, "1")
		_, err := loadgen.StartServices(context.Background(), loadgen.ServicesConfig{
			BackendBin: os.Args[0], MemcacheBin: os.Args[0], Logger: quiet,
			MemcacheArgs: []string{"-no-such-flag"}, StartTimeout: 10 * time.Second,
		})
		if err == nil || !strings.Contains(err.Error(), "exited before it was healthy") || !strings.Contains(err.Error(), "no-such-flag") {
			t.Errorf("error %v, want the early exit with the log", err)
		}
	})
}

// Keep leaves the folder (database, images, logs) for a post-mortem.
func TestStartServicesKeep(t *testing.T) {
	t.Setenv(loadgentest.ProcessEnv, "1")
	s, err := loadgen.StartServices(context.Background(), loadgen.ServicesConfig{
		BackendBin: os.Args[0], MemcacheBin: os.Args[0], Logger: quiet, Keep: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(s.Dir())
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := os.Stat(s.Dir()); err != nil {
		t.Errorf("Keep: folder gone: %v", err)
	}
}
