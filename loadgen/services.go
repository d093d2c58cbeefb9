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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"imgcache/app/s3store/versitygw"
	"imgcache/loadgen/cost"
	"imgcache/loadgen/proxy"
	"imgcache/memcache/pool"
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
	// DefaultBackends and DefaultNodes are one backend over one memcache, the Stage 1 layout.
	DefaultBackends = 1
	DefaultNodes    = 1
	// MaxNodes is the most memcache nodes a pool routes to (memcache/pool's MaxMembers).
	MaxNodes = pool.MaxMembers
	// MaxBackends bounds -backends: each is a process with its own connections on one machine.
	MaxBackends = 16
)

// Storage kinds of the started backends (ServicesConfig.Storage).
const (
	StorageFile = "file" // a folder beside the database (the default)
	StorageS3   = "s3"   // a versitygw server started beside the services, over a folder of its own
)

// S3Bucket and S3Region are what the started backends are given with StorageS3; the backend creates
// the bucket when it is missing.
const (
	S3Bucket = "imgcache"
	S3Region = "us-east-1"
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
	// Storage is StorageFile ("" too) or StorageS3. With S3, VersitygwBin is the S3 server to start;
	// "" means versitygw.Find's answer.
	Storage      string
	VersitygwBin string
	// S3Model, when not zero, puts a proxy between the backends and the S3 server that makes it
	// cost what a remote store would (see loadgen/proxy).
	S3Model proxy.Model
	// Backends is how many backends to start (0 means DefaultBackends), all on the one database and
	// the one image store. Nodes is how many active memcache nodes (0 means DefaultNodes), and
	// Standby how many more that join the pool as standby nodes, to be activated later.
	Backends     int
	Nodes        int
	Standby      int
	StartTimeout time.Duration // each service's, and the pool's to settle; 0 means DefaultStartTimeout
	StopTimeout  time.Duration // before SIGKILL follows SIGTERM; 0 means DefaultStopTimeout
	Logger       *slog.Logger  // nil means slog.Default()
}

func (c ServicesConfig) withDefaults() ServicesConfig {
	setIf(&c.BackendBin, DefaultBackendBin)
	setIf(&c.MemcacheBin, DefaultMemcacheBin)
	setIf(&c.StartTimeout, DefaultStartTimeout)
	setIf(&c.StopTimeout, DefaultStopTimeout)
	setIf(&c.LogLevel, DefaultServiceLogLevel)
	setIf(&c.Storage, StorageFile)
	setIf(&c.Backends, DefaultBackends)
	setIf(&c.Nodes, DefaultNodes)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c ServicesConfig) validate() error {
	var errs []error
	if c.Storage != StorageFile && c.Storage != StorageS3 {
		errs = append(errs, fmt.Errorf("storage %q (want %s or %s)", c.Storage, StorageFile, StorageS3))
	}
	if c.Backends < 1 || c.Backends > MaxBackends {
		errs = append(errs, fmt.Errorf("%d backends (want 1 to %d)", c.Backends, MaxBackends))
	}
	if c.Nodes < 1 || c.Standby < 0 || c.Nodes+c.Standby > MaxNodes {
		errs = append(errs, fmt.Errorf("%d active and %d standby memcache nodes (want 1 to %d in all, at least one active)", c.Nodes, c.Standby, MaxNodes))
	}
	if !c.S3Model.Zero() && c.Storage != StorageS3 {
		errs = append(errs, fmt.Errorf("an S3 network model (%s) without S3 storage", c.S3Model))
	}
	errs = append(errs, c.S3Model.Validate())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return nil
}

// Services are memcache nodes, backends and, with S3 storage, a versitygw, running as child
// processes on free loopback ports, sharing an embedded SQLite database in a fresh folder.
type Services struct {
	cfg          ServicesConfig
	dir          string
	tempDir      bool
	backendURLs  []string
	memcacheURLs []string // the active nodes first, then the standby ones
	s3Endpoint   string
	procs        []*child // in start order
	s3Proxy      *proxy.Proxy

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

// StartServices starts the S3 server when asked for, the first memcache node and waits for its
// health, then the other nodes, then the backends, and waits for each one's health and, with more
// than one node, until every backend routes to all active nodes. The first memcache goes first
// because it creates the database file and schema, which the others then open (two processes
// creating one SQLite file at once race).
func StartServices(ctx context.Context, cfg ServicesConfig) (_ *Services, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Services{cfg: cfg, dir: cfg.Dir}
	for _, bin := range []string{cfg.BackendBin, cfg.MemcacheBin} {
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("service binary: %w (build it with make bench, or pass -target)", err)
		}
	}
	vgw := cfg.VersitygwBin
	if cfg.Storage == StorageS3 && vgw == "" {
		if vgw, err = versitygw.Find(); err != nil {
			return nil, fmt.Errorf("%w (or pass -versitygw-bin): %w", err, ErrBadConfig)
		}
	} else if cfg.Storage == StorageS3 {
		if _, err := os.Stat(vgw); err != nil {
			return nil, fmt.Errorf("versitygw binary: %w (install it with %s)", err, versitygw.Install)
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

	nodes := cfg.Nodes + cfg.Standby
	ports, err := freePorts(nodes + cfg.Backends + 1) // the last for the S3 server, if it is asked for
	if err != nil {
		return nil, err
	}
	dsn := "sqlite:" + filepath.Join(s.dir, "imgcache.db")
	data := filepath.Join(s.dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	var backendEnv, storageArgs []string
	if cfg.Storage == StorageS3 {
		s.s3Endpoint = "127.0.0.1:" + strconv.Itoa(ports[len(ports)-1])
		access, secret := randomKey(), randomKey()
		if err := s.startVersitygw(ctx, vgw, access, secret); err != nil {
			return nil, err
		}
		endpoint, err := s.startS3Proxy()
		if err != nil {
			return nil, err
		}
		storageArgs = []string{"-storage", fmt.Sprintf("s3://%s?endpoint=http://%s&region=%s", S3Bucket, endpoint, S3Region)}
		backendEnv = []string{"AWS_ACCESS_KEY_ID=" + access, "AWS_SECRET_ACCESS_KEY=" + secret}
	}

	// The first node creates the schema, alone; the others may then start together, and are
	// waited for after the last has started.
	var mcs []*child
	for i := range nodes {
		addr := "127.0.0.1:" + strconv.Itoa(ports[i])
		args := []string{"-addr", addr, "-db", dsn, "-log-level", cfg.LogLevel}
		if i >= cfg.Nodes {
			args = append(args, "-standby")
		}
		c, err := s.start(nodeName("memcache", i, nodes), cfg.MemcacheBin, append(args, cfg.MemcacheArgs...), nil)
		if err != nil {
			return nil, err
		}
		mcs = append(mcs, c)
		s.memcacheURLs = append(s.memcacheURLs, "http://"+addr)
		if i == 0 || i == nodes-1 {
			for j := range mcs {
				if err := s.waitHealthy(ctx, s.memcacheURLs[j], mcs[j]); err != nil {
					return nil, err
				}
			}
		}
	}
	var bes []*child
	for i := range cfg.Backends {
		addr := "127.0.0.1:" + strconv.Itoa(ports[nodes+i])
		s.backendURLs = append(s.backendURLs, "http://"+addr)
		// No load balancer polls the backends loadgen runs: they stop without draining.
		args := append([]string{"-addr", addr, "-memcache", s.memcacheURLs[0], "-db", dsn, "-data", data, "-log-level", cfg.LogLevel, "-drain", "0"}, storageArgs...)
		c, err := s.start(nodeName("backend", i, cfg.Backends), cfg.BackendBin, append(args, cfg.BackendArgs...), backendEnv)
		if err != nil {
			return nil, err
		}
		bes = append(bes, c)
	}
	for i, u := range s.backendURLs {
		if err := s.waitHealthy(ctx, u, bes[i]); err != nil {
			return nil, err
		}
	}
	if nodes > 1 {
		if err := s.waitPool(ctx); err != nil {
			return nil, err
		}
	}
	cfg.Logger.Info("services started", "backends", s.backendURLs, "memcache", s.memcacheURLs, "storage", cfg.Storage, "dir", s.dir)
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

// nodeName names the i-th of n services of a kind for its log file and errors: "backend", or
// "backend-2" when there are several.
func nodeName(kind string, i, n int) string {
	if n == 1 {
		return kind
	}
	return kind + "-" + strconv.Itoa(i+1)
}

// start starts a service with loadgen's environment and extraEnv.
func (s *Services) start(name, bin string, args, extraEnv []string) (*child, error) {
	var env []string // nil: the child inherits loadgen's
	if extraEnv != nil {
		env = append(os.Environ(), extraEnv...)
	}
	return s.startEnv(name, bin, args, env)
}

// startEnv starts a service with env as its whole environment (nil: loadgen's), its output in
// NAME.log in the services' folder.
func (s *Services) startEnv(name, bin string, args, env []string) (*child, error) {
	logPath := filepath.Join(s.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { // ends when the process exits; Close makes sure it does
		c.err = cmd.Wait()
		f.Close()
		close(c.done)
	}()
	s.procs = append(s.procs, c)
	s.cfg.Logger.Debug("started", "service", name, "pid", cmd.Process.Pid, "args", redactArgs(args))
	return c, nil
}

// redactArgs hides the S3 server's credentials from the log.
func redactArgs(args []string) []string {
	out := slices.Clone(args)
	for i := 1; i < len(out); i++ {
		if out[i-1] == "--access" || out[i-1] == "--secret" {
			out[i] = "***"
		}
	}
	return out
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

// BackendURL returns the first backend's base URL, the one configuration goes through.
func (s *Services) BackendURL() string { return s.backendURLs[0] }

// BackendURLs returns every backend's base URL.
func (s *Services) BackendURLs() []string { return slices.Clone(s.backendURLs) }

// MemcacheURL returns the first memcache node's base URL.
func (s *Services) MemcacheURL() string { return s.memcacheURLs[0] }

// MemcacheURLs returns every memcache node's base URL, the active ones first, then the standby.
func (s *Services) MemcacheURLs() []string { return slices.Clone(s.memcacheURLs) }

// S3Endpoint returns the HOST:PORT of the started S3 server; "" with file storage.
func (s *Services) S3Endpoint() string { return s.s3Endpoint }

// Storage returns the kind of image store the backends use: StorageFile or StorageS3.
func (s *Services) Storage() string { return s.cfg.Storage }

// PIDs returns the process ids of the services, the S3 server's among them, so that their CPU time counts as loadgen's own
// when the load from other processes is measured.
func (s *Services) PIDs() []int {
	pids := make([]int, 0, len(s.procs))
	for _, c := range s.procs {
		pids = append(pids, c.cmd.Process.Pid)
	}
	return pids
}

// Tiers returns the services' process ids by cost tier: cost.TierBackend, cost.TierMemcache
// and, with S3 storage, cost.TierStorage (the S3 server).
func (s *Services) Tiers() map[string][]int {
	out := map[string][]int{}
	for _, c := range s.procs {
		tier := cost.TierBackend
		switch {
		case strings.HasPrefix(c.name, "memcache"):
			tier = cost.TierMemcache
		case c.name == "versitygw":
			tier = cost.TierStorage
		}
		out[tier] = append(out[tier], c.cmd.Process.Pid)
	}
	return out
}

// Dir returns the folder of the database, images and logs.
func (s *Services) Dir() string { return s.dir }

// Close stops the services in the reverse order of their start (backends first, the S3 server
// last), each with SIGTERM and then SIGKILL if it has not exited within the stop timeout, and
// removes a temporary folder. Calling it again is safe.
func (s *Services) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for i := len(s.procs) - 1; i >= 0; i-- {
			if s.procs[i].name == "versitygw" && s.s3Proxy != nil {
				errs = append(errs, s.s3Proxy.Close()) // its clients are gone, its upstream not yet
			}
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
