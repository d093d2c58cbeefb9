package loadgen_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"imgcache/app/api"
	"imgcache/app/s3store/versitygw"
	"imgcache/loadgen"
	"imgcache/loadgen/cpuload"
	"imgcache/loadgen/loadgentest"
	"imgcache/loadgen/proxy"
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

// startReal starts the real services (played by the test binary) as cfg says; they are stopped
// when the test ends.
func startReal(t *testing.T, cfg loadgen.ServicesConfig) *loadgen.Services {
	t.Helper()
	t.Setenv(loadgentest.ProcessEnv, "1")
	t.Setenv(loadgentest.RealEnv, "1")
	cfg.BackendBin, cfg.MemcacheBin, cfg.Logger = os.Args[0], os.Args[0], quiet
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := loadgen.StartServices(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// Several backends and a pool of nodes, and S3 storage: every backend healthy and routing to every
// active node, the data set readable through each backend, statistics summed over the nodes, and
// every process counted as loadgen's own.
func TestStartServicesModes(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		cfg                       loadgen.ServicesConfig
		backends, active, standby int
		s3                        bool
	}{
		{"two backends and two nodes and a standby", loadgen.ServicesConfig{Backends: 2, Nodes: 2, Standby: 1}, 2, 2, 1, false},
		{"s3 storage", loadgen.ServicesConfig{Storage: loadgen.StorageS3}, 1, 1, 0, true},
		{"s3 behind the remote-store model", loadgen.ServicesConfig{Storage: loadgen.StorageS3, S3Model: proxy.Model{Latency: 5 * time.Millisecond, Bandwidth: 50e6}}, 1, 1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.s3 {
				requireVersitygw(t)
			}
			s := startReal(t, tc.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if got := s.BackendURLs(); len(got) != tc.backends || got[0] != s.BackendURL() {
				t.Errorf("BackendURLs() = %v, want %d starting with BackendURL() %s", got, tc.backends, s.BackendURL())
			}
			mcs := s.MemcacheURLs()
			if len(mcs) != tc.active+tc.standby {
				t.Errorf("MemcacheURLs() = %v, want %d", mcs, tc.active+tc.standby)
			}
			for _, u := range s.BackendURLs() {
				ctl := &loadgen.Control{BackendURL: u, MemcacheURLs: mcs}
				if err := ctl.Healthy(ctx); err != nil {
					t.Errorf("backend %s: %v", u, err)
				}
				p, err := ctl.Pool(ctx)
				if err != nil {
					t.Fatalf("pool of %s: %v", u, err)
				}
				if len(p.Nodes) != tc.active+tc.standby || p.Active() != tc.active || p.Routed != tc.active {
					t.Errorf("backend %s sees %+v, %d routed; want %d nodes, %d active and routed", u, p.Nodes, p.Routed, tc.active+tc.standby, tc.active)
				}
				for _, n := range p.Nodes {
					if !slices.Contains(mcs, n.Address) {
						t.Errorf("node %d at %s is none of the started %v", n.ID, n.Address, mcs)
					}
				}
			}
			procs := 1 + tc.backends + tc.active + tc.standby
			if !tc.s3 {
				procs--
			}
			if pids := s.PIDs(); len(pids) != procs {
				t.Errorf("PIDs() = %v, want %d processes", pids, procs)
			}

			// The data set goes in through every backend and reads back through every one.
			ds, err := loadgen.NewDataset(loadgen.DatasetConfig{Images: 12, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000})
			if err != nil {
				t.Fatal(err)
			}
			w, err := loadgen.NewWorkloadOn(s.BackendURLs(), ds, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			ctl := &loadgen.Control{BackendURL: s.BackendURL(), MemcacheURLs: mcs}
			if err := ctl.UploadAll(ctx, w, 4); err != nil {
				t.Fatal(err)
			}
			for _, u := range s.BackendURLs() {
				for _, im := range ds.Images {
					for range 2 { // a miss that fills, then a hit
						readImage(t, ctx, u, im.Key)
					}
				}
			}
			sum, err := ctl.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var gets, hits uint64
			serving := 0
			for _, u := range mcs {
				st, err := (&loadgen.Control{MemcacheURLs: []string{u}}).Stats(ctx)
				if err != nil {
					t.Fatal(err)
				}
				gets, hits = gets+st.Gets, hits+st.Hits
				if st.Gets > 0 {
					serving++
				}
			}
			if sum.Gets != gets || sum.Hits != hits || sum.Gets < uint64(2*tc.backends*len(ds.Images)) {
				t.Errorf("summed stats %d gets %d hits; the nodes' own add up to %d and %d; want at least %d gets",
					sum.Gets, sum.Hits, gets, hits, 2*tc.backends*len(ds.Images))
			}
			if serving != tc.active {
				t.Errorf("%d nodes served lookups, want the %d active ones", serving, tc.active)
			}
			if tc.s3 {
				objects, _ := filepath.Glob(filepath.Join(s.Dir(), "s3", loadgen.S3Bucket, "*"))
				if len(objects) < len(ds.Images) {
					t.Errorf("%d objects in the S3 server's bucket folder, want the %d images", len(objects), len(ds.Images))
				}
				if s.S3Endpoint() == "" {
					t.Error("no S3 endpoint")
				}
			}
		})
	}
}

// requireVersitygw skips the test when the S3 server is not installed, or fails it when
// IMGCACHE_REQUIRE_S3 is 1 (CI sets it).
func requireVersitygw(t *testing.T) {
	t.Helper()
	if _, err := versitygw.Find(); err != nil {
		if os.Getenv("IMGCACHE_REQUIRE_S3") == "1" {
			t.Fatalf("%v (and IMGCACHE_REQUIRE_S3=1)", err)
		}
		t.Skipf("skipping: %v; set IMGCACHE_REQUIRE_S3=1 to fail instead", err)
	}
}

// readImage reads key through the backend at base and fails the test unless it answers 200.
func readImage(t *testing.T, ctx context.Context, base, key string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+api.KeyPath(key), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("read %s through %s: %d %s", key, base, resp.StatusCode, body)
	}
}

// A configuration out of bounds is refused before anything starts.
func TestStartServicesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  loadgen.ServicesConfig
	}{
		{"unknown storage", loadgen.ServicesConfig{Storage: "tape"}},
		{"nine nodes", loadgen.ServicesConfig{Nodes: 9}},
		{"eight and a standby", loadgen.ServicesConfig{Nodes: 8, Standby: 1}},
		{"negative backends", loadgen.ServicesConfig{Backends: -1}},
		{"missing versitygw", loadgen.ServicesConfig{Storage: loadgen.StorageS3, VersitygwBin: "/nonexistent/versitygw"}},
		{"s3 model without s3", loadgen.ServicesConfig{S3Model: proxy.Model{Latency: time.Millisecond}}},
		{"s3 model in microseconds", loadgen.ServicesConfig{Storage: loadgen.StorageS3, S3Model: proxy.Model{Latency: time.Microsecond}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.BackendBin, cfg.MemcacheBin, cfg.Logger = os.Args[0], os.Args[0], quiet
			t.Setenv(loadgentest.ProcessEnv, "1")
			s, err := loadgen.StartServices(context.Background(), cfg)
			if err == nil {
				s.Close()
				t.Fatal("started, want an error")
			}
		})
	}
}
