package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Defaults of ServicesConfig.
const (
	DefaultBackendBin   = "bin/backend"
	DefaultMemcacheBin  = "bin/memcache"
	DefaultStartTimeout = 30 * time.Second
	DefaultStopTimeout  = 10 * time.Second
	// DefaultServiceLogLevel keeps the services' logs to warnings: a log line a request would
	// cost CPU that the measurement is about.
	DefaultServiceLogLevel = "warn"
)

// ServicesConfig describes the services loadgen starts for a self-contained run.
type ServicesConfig struct {
	BackendBin  string // path of the backend binary; "" means DefaultBackendBin
	MemcacheBin string // path of the memcache binary; "" means DefaultMemcacheBin
	// Dir holds the database, the images and the logs; "" means a new temporary folder, removed
	// by Close unless Keep is set.
	Dir      string
	Keep     bool
	LogLevel string // the services' -log-level; "" means DefaultServiceLogLevel
	// BackendArgs and MemcacheArgs are appended to the services' command lines.
	BackendArgs  []string
	MemcacheArgs []string
	StartTimeout time.Duration // 0 means DefaultStartTimeout
	StopTimeout  time.Duration // before SIGKILL follows SIGTERM; 0 means DefaultStopTimeout
	Logger       *slog.Logger  // nil means slog.Default()
}

// Services are a memcache and a backend running as child processes on free loopback ports,
// sharing an embedded SQLite database in a fresh folder.
type Services struct {
	cfg         ServicesConfig
	dir         string
	tempDir     bool
	backendURL  string
	memcacheURL string
	procs       []*child // in start order

	closeOnce sync.Once
	closeErr  error
}

type child struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // Wait's error, set before done closes
}

// StartServices starts the memcache, waits for its health, then starts the backend and waits
// for its health. The memcache goes first because it creates the database file and schema,
// which the backend then opens (two processes creating one SQLite file at once race).
func StartServices(ctx context.Context, cfg ServicesConfig) (_ *Services, err error) {
	setIf(&cfg.BackendBin, DefaultBackendBin)
	setIf(&cfg.MemcacheBin, DefaultMemcacheBin)
	setIf(&cfg.StartTimeout, DefaultStartTimeout)
	setIf(&cfg.StopTimeout, DefaultStopTimeout)
	setIf(&cfg.LogLevel, DefaultServiceLogLevel)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Services{cfg: cfg, dir: cfg.Dir}
	for _, bin := range []string{cfg.BackendBin, cfg.MemcacheBin} {
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("service binary: %w (build it with make bench, or pass -target)", err)
		}
	}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "imgcache-loadgen-"); err != nil {
			return nil, err
		}
		s.tempDir = true
	} else if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	mcAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
	beAddr := "127.0.0.1:" + strconv.Itoa(ports[1])
	s.memcacheURL = "http://" + mcAddr
	s.backendURL = "http://" + beAddr
	dsn := "sqlite:" + filepath.Join(s.dir, "imgcache.db")
	data := filepath.Join(s.dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}

	if err := s.start("memcache", cfg.MemcacheBin, append([]string{"-addr", mcAddr, "-db", dsn, "-log-level", cfg.LogLevel}, cfg.MemcacheArgs...)); err != nil {
		return nil, err
	}
	if err := s.waitHealthy(ctx, s.memcacheURL, s.procs[0]); err != nil {
		return nil, err
	}
	if err := s.start("backend", cfg.BackendBin, append([]string{"-addr", beAddr, "-memcache", s.memcacheURL, "-db", dsn, "-data", data, "-log-level", cfg.LogLevel}, cfg.BackendArgs...)); err != nil {
		return nil, err
	}
	if err := s.waitHealthy(ctx, s.backendURL, s.procs[1]); err != nil {
		return nil, err
	}
	cfg.Logger.Info("services started", "backend", s.backendURL, "memcache", s.memcacheURL, "dir", s.dir)
	return s, nil
}

// freePorts asks the kernel for n free loopback ports. Another process could take one before
// the service binds it; the health wait then fails with the service's log.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

func (s *Services) start(name, bin string, args []string) error {
	logPath := filepath.Join(s.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { // ends when the process exits; Close makes sure it does
		c.err = cmd.Wait()
		f.Close()
		close(c.done)
	}()
	s.procs = append(s.procs, c)
	s.cfg.Logger.Debug("started", "service", name, "pid", cmd.Process.Pid, "args", args)
	return nil
}

func (s *Services) waitHealthy(ctx context.Context, base string, c *child) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	ctl := &Control{BackendURL: base}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := ctl.Healthy(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited before it was healthy (%v); its log:\n%s", c.name, c.err, tail(c.log))
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy after %v: %w; its log:\n%s", c.name, s.cfg.StartTimeout, err, tail(c.log))
		case <-tick.C:
		}
	}
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	const n = 2000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// BackendURL returns the backend's base URL.
func (s *Services) BackendURL() string { return s.backendURL }

// MemcacheURL returns the memcache's base URL.
func (s *Services) MemcacheURL() string { return s.memcacheURL }

// PIDs returns the process ids of the services, so that their CPU time counts as loadgen's own
// when the load from other processes is measured.
func (s *Services) PIDs() []int {
	pids := make([]int, 0, len(s.procs))
	for _, c := range s.procs {
		pids = append(pids, c.cmd.Process.Pid)
	}
	return pids
}

// Dir returns the folder of the database, images and logs.
func (s *Services) Dir() string { return s.dir }

// Close stops the services, backend first, each with SIGTERM and then SIGKILL if it has not
// exited within the stop timeout, and removes a temporary folder. Calling it again is safe.
func (s *Services) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for i := len(s.procs) - 1; i >= 0; i-- {
			errs = append(errs, s.procs[i].stop(s.cfg.StopTimeout))
		}
		if s.tempDir && !s.cfg.Keep {
			errs = append(errs, os.RemoveAll(s.dir))
		} else if s.dir != "" {
			s.cfg.Logger.Info("services' folder kept", "dir", s.dir)
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func (c *child) stop(timeout time.Duration) error {
	select {
	case <-c.done:
		return exitErr(c)
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return exitErr(c)
	case <-t.C:
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %v of SIGTERM and was killed", c.name, timeout)
	}
}

// exitErr reports an exit that was not clean; SIGTERM's own exit status counts as clean.
func exitErr(c *child) error {
	var ee *exec.ExitError
	if c.err == nil {
		return nil
	}
	if errors.As(c.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return fmt.Errorf("%s: %w; its log:\n%s", c.name, c.err, tail(c.log))
}
