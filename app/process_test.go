package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"imgcache/app"
	"imgcache/app/apptest"
	"imgcache/memcache"
)

// The process tests run the services as processes, to stop one with SIGSTOP or kill it with SIGKILL as
// an operator or a crash would. The test binary plays the service itself (see TestMain), so no build
// is needed.

// roleEnv makes the test binary serve as a service instead of running tests: "backend" or "memcache",
// configured by the variables below.
const roleEnv = "IMGCACHE_TEST_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "backend":
		os.Exit(serveRole(func(ctx context.Context) error {
			return app.Run(ctx, app.Config{Addr: os.Getenv("IMGCACHE_ADDR"), MemcacheURL: os.Getenv("IMGCACHE_MEMCACHE_URL"),
				MemcacheSecret: os.Getenv("IMGCACHE_MEMCACHE_SECRET"), DB: os.Getenv("IMGCACHE_DB"), DataDir: os.Getenv("IMGCACHE_DATA"),
				Storage: os.Getenv("IMGCACHE_STORAGE"), S3AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), S3SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
				SweepInterval: -1, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
				MemcacheTimeout: envDuration("IMGCACHE_MEMCACHE_TIMEOUT", testMemcacheTimeout), Drain: envDuration("IMGCACHE_DRAIN", -1)})
		}))
	case "memcache":
		os.Exit(serveRole(func(ctx context.Context) error {
			return memcache.Run(ctx, memcache.Config{Addr: os.Getenv("IMGCACHE_MEMCACHE_ADDR"), DB: os.Getenv("IMGCACHE_DB"),
				Secret: os.Getenv("IMGCACHE_MEMCACHE_SECRET"), Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
		}))
	}
	os.Exit(m.Run())
}

// testMemcacheTimeout is the cache calls' deadline of the tests' backends.
const testMemcacheTimeout = apptest.MemcacheTimeout

// envDuration is the duration in the environment variable name, or def.
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// serveRole runs a service until SIGTERM and returns the exit code.
func serveRole(run func(context.Context) error) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		return 1
	}
	return 0
}

// proc is a service running as a child process of the test.
type proc struct {
	t    *testing.T
	role string
	addr string
	env  []string
	out  *apptest.SyncBuffer
	wrap []string // a command the test binary runs under (ip netns exec NS), or none

	mu  sync.Mutex
	cmd *exec.Cmd
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProc starts the test binary as role on a free port with env (KEY=VALUE), and waits until it
// accepts connections. The process is killed when the test ends.
func startProc(t *testing.T, role string, env ...string) *proc {
	t.Helper()
	return startProcAt(t, role, freeAddr(t), nil, env...)
}

// startProcAt is startProc on addr, with the test binary run under wrap (ip netns exec NS) if given.
func startProcAt(t *testing.T, role, addr string, wrap []string, env ...string) *proc {
	t.Helper()
	p := &proc{t: t, role: role, addr: addr, out: &apptest.SyncBuffer{}, wrap: wrap}
	addrVar := "IMGCACHE_ADDR"
	if role == "memcache" {
		addrVar = "IMGCACHE_MEMCACHE_ADDR"
	}
	p.env = append(append(os.Environ(), roleEnv+"="+role, addrVar+"="+p.addr), env...)
	p.start()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		p.wait()
		if t.Failed() {
			t.Logf("%s output (end):\n%s", role, tail(p.out.String(), 3000))
		}
	})
	return p
}

func (p *proc) start() {
	p.t.Helper()
	argv := append(slices.Clone(p.wrap), os.Args[0], "-test.run=^$")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.role, err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	for end := time.Now().Add(20 * time.Second); ; {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(end) {
			p.t.Fatalf("%s did not listen on %s within 20 s:\n%s", p.role, p.addr, tail(p.out.String(), 2000))
		}
		time.Sleep(20 * time.Millisecond) // polling a port that another process opens: nothing to wait on
	}
}

// restart starts the process again on the same address after it died or was killed.
func (p *proc) restart() {
	p.t.Helper()
	p.wait()
	p.start()
}

func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(sig)
	}
}

// wait reaps the process after it exited or was killed.
func (p *proc) wait() {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd != nil {
		var ee *exec.ExitError
		if err := cmd.Wait(); err != nil && !errors.As(err, &ee) && !strings.Contains(err.Error(), "Wait was already called") {
			p.t.Logf("wait %s: %v", p.role, err)
		}
	}
}

func (p *proc) url() string { return "http://" + p.addr }

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
