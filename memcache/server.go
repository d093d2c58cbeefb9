// Package memcache is the cache service: fasthttp endpoints over the cache engine, with its
// configuration read from the database and its statistics written there.
package memcache

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"imgcache/database"
	"imgcache/memcache/cache"
	"imgcache/memcache/livemrc"
	"imgcache/memcache/route"
	"imgcache/memcache/wire"
)

// Defaults for a zero Config.
const (
	DefaultAddr           = "127.0.0.1:5001"
	DefaultStatsInterval  = 5 * time.Second
	DefaultStatsRetention = 24 * time.Hour
	// DefaultMaxBodySize fits the backend's largest image (16 MiB) as base64 inside JSON.
	DefaultMaxBodySize = 32 << 20
	// DefaultMaxConnsPerIP caps one client address's connections: each backend pools up to 512, and
	// several may share a host.
	DefaultMaxConnsPerIP = 4096
)

// Config configures a Server; the zero value of each field means its default.
type Config struct {
	Addr           string        // listen address
	DB             string        // database DSN (database.DefaultDSN)
	DBTimeout      time.Duration // deadline of each database call; default database.DefaultTimeout
	StatsInterval  time.Duration // how often a cache_stats row is written
	StatsRetention time.Duration // cache_stats rows older than this are pruned
	MaxBodySize    int           // request body limit in bytes
	MaxConnsPerIP  int           // most connections one client address may hold
	// Secret, when set, must come with every request but the health check, as
	// "Authorization: Bearer SECRET". Without one the service listens on loopback only.
	Secret string
	// Advertise is the URL backends reach this node at, registered in the pool's table; empty means
	// http:// and the bound address, which must then not be a wildcard.
	Advertise string
	// Standby registers a new node as standby rather than active: running, but not routed to until it
	// is activated on the pool page or by the auto-scaler.
	Standby   bool
	Heartbeat time.Duration // how often the node heartbeats in the pool's table
	// LiveMRC turns the live miss-ratio curve on (GET /mrc answers no curves without it). Off by
	// default until its cost on the GET path is measured: a small key set is sampled whole, and every
	// sampled access then runs through a simulation of each policy at each size.
	LiveMRC bool
	Seed    uint64 // seed of Random Replacement; 0 picks one from the clock
	Logger  *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.DB == "" {
		c.DB = database.DefaultDSN
	}
	if c.StatsInterval <= 0 {
		c.StatsInterval = DefaultStatsInterval
	}
	if c.StatsRetention <= 0 {
		c.StatsRetention = DefaultStatsRetention
	}
	if c.MaxBodySize <= 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.MaxConnsPerIP <= 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server is a running cache service. Start it with Start and stop it with Close.
type Server struct {
	cfg      Config
	log      *slog.Logger
	cache    *cache.Cache
	db       *lazyDB
	ln       net.Listener
	http     *fasthttp.Server
	requests atomic.Uint64
	stats    *statsWriter
	member   *member
	routes   *route.Table
	dbErrors prometheus.Counter
	mrc      *livemrc.Tracker // the live miss-ratio curve

	// base is the parent of every request's context, cancelled by Close.
	base context.Context
	stop context.CancelFunc

	serveErr  chan error
	closeOnce sync.Once
	closeErr  error
}

// Run starts a server and serves until ctx is cancelled, then shuts it down gracefully.
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	cfg.Logger = s.log
	s.log.Info("memcache listening", "addr", s.Addr())
	select {
	case <-ctx.Done():
	case err := <-s.serveErr:
		s.Close()
		return fmt.Errorf("serve: %w", err)
	}
	return s.Close()
}

// Start opens the database, applies the configuration in force, binds the listener (so a busy port is
// an error here, not later) and serves in the background.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Secret == "" && !loopback(cfg.Addr) {
		return nil, fmt.Errorf("refusing to listen on %s without a secret: anyone who reaches it could put images in the cache; set -secret (IMGCACHE_MEMCACHE_SECRET) or listen on 127.0.0.1", cfg.Addr)
	}
	// The database is opened here to report a bad DSN or an unusable SQLite file at once, but an
	// unreachable MySQL server does not stop the cache: lazyDB opens it again when the stats writer or
	// a refresh next needs it.
	db := &lazyDB{dsn: cfg.DB, timeout: cfg.DBTimeout}
	if _, err := db.get(ctx); err != nil {
		if errors.Is(err, database.ErrBadDSN) || !strings.HasPrefix(cfg.DB, string(database.MySQL)+":") {
			return nil, fmt.Errorf("open database: %w", err)
		}
		cfg.Logger.Error("database unreachable: serving with the default configuration until it is back", "err", err)
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		db:       db,
		cache:    cache.New(cache.Config{Capacity: wire.DefaultCapacityMB * cache.MB, Policy: defaultPolicy, Seed: cfg.Seed}),
		serveErr: make(chan error, 1),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgcache_database_errors_total",
			Help: "Failed database operations.", ConstLabels: prometheus.Labels{"service": "memcache"}}),
	}
	if cfg.LiveMRC {
		s.mrc = livemrc.New(wire.DefaultCapacityMB*cache.MB, livemrc.Config{})
	}
	if _, err := s.refresh(ctx); err != nil {
		// The cache works without its stored configuration; the defaults stay until a refresh succeeds.
		s.log.Warn("cannot read cache configuration, using defaults", "err", err)
	}
	s.base, s.stop = context.WithCancel(context.Background())
	reg := route.NewRegistry()
	reg.MustRegister(newCacheCollector(s.cache), s.dbErrors)
	s.routes = route.New(route.Config{Base: s.base, OnError: s.answerError, Log: s.log, Guard: s.admit,
		Metrics: route.NewMetrics(reg, "memcache")}, s.routeTable(route.MetricsHandler(reg)))
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.mrc.Close()
		db.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s.ln = ln
	url, err := advertiseURL(cfg.Advertise, ln.Addr())
	if err != nil {
		ln.Close()
		s.mrc.Close()
		db.Close()
		return nil, err
	}
	state := database.NodeActive
	if cfg.Standby {
		state = database.NodeStandby
	}
	s.member = startMember(db, url, state, func() int { return int(s.cache.Stats().Capacity / cache.MB) }, cfg.Heartbeat, s.log)
	s.http = &fasthttp.Server{
		Handler:              s.handle,
		Name:                 "imgcache-memcache",
		MaxRequestBodySize:   cfg.MaxBodySize,
		ErrorHandler:         s.readError,
		Logger:               route.Logger(cfg.Logger),
		ReadTimeout:          30 * time.Second,
		WriteTimeout:         30 * time.Second,
		IdleTimeout:          2 * time.Minute, // longer than the client's 30 s, so the client closes first
		MaxConnsPerIP:        cfg.MaxConnsPerIP,
		NoDefaultDate:        true,
		NoDefaultContentType: true,
		CloseOnShutdown:      true,
	}
	s.stats = startStatsWriter(s.cache, db, s.member.ID, cfg.StatsInterval, cfg.StatsRetention, s.log, s.dbErrors.Inc)
	go func() {
		if err := s.http.Serve(ln); err != nil {
			s.serveErr <- err
		}
	}()
	return s, nil
}

// Addr is the address the server listens on (useful when Config.Addr had port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the base URL of the server.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Close finishes in-flight requests, writes the last statistics row and closes the database.
// Calling it again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		// Leave the pool first: backends stop routing here at once, while in-flight requests finish.
		s.member.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var errs []error
		if err := s.http.ShutdownWithContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown http: %w", err))
		}
		// Shutdown does nothing if Serve has not started yet; closing the listener makes a late Serve
		// return at once instead of serving forever.
		if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("close listener: %w", err))
		}
		s.stop()
		s.stats.Close()
		s.mrc.Close()
		if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// defaultPolicy is wire.DefaultPolicy in the engine's terms.
const defaultPolicy = cache.LRU

// loopback reports whether addr (host:port) is on a loopback interface only: an empty or wildcard
// host listens on every interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// admit refuses browser-style requests (the service is internal, and a page must not reach it through
// a user's browser) and, when the service has a secret, requests without it; the health check needs
// no secret, so that a supervisor can poll it.
func (s *Server) admit(rc *fasthttp.RequestCtx, r *route.Route) error {
	h := &rc.Request.Header
	if len(h.Peek("Origin")) > 0 || len(h.Peek("Sec-Fetch-Site")) > 0 && string(h.Peek("Sec-Fetch-Site")) != "none" {
		return fmt.Errorf("%w: the memcache is an internal service; browsers may not call it", wire.ErrForbidden)
	}
	if s.cfg.Secret == "" || r != nil && r.Path == wire.PathHealth {
		return nil
	}
	if subtle.ConstantTimeCompare(h.Peek(wire.HeaderAuthorization), []byte(wire.Bearer(s.cfg.Secret))) != 1 {
		return fmt.Errorf("%w: send the service's secret as \"Authorization: Bearer SECRET\"", wire.ErrUnauthorized)
	}
	return nil
}

// handle counts a request and dispatches it.
func (s *Server) handle(rc *fasthttp.RequestCtx) {
	s.requests.Add(1)
	s.routes.Serve(rc)
}

// refresh applies the newest cache_properties row, or the defaults when there is none.
func (s *Server) refresh(ctx context.Context) (database.CacheProperties, error) {
	p, err := s.db.LatestCacheProperties(ctx)
	if errors.Is(err, database.ErrNotFound) {
		p = database.CacheProperties{MaxCapacityMB: wire.DefaultCapacityMB, Policy: wire.DefaultPolicy}
	} else if err != nil {
		s.dbErrors.Inc()
		return p, fmt.Errorf("read cache properties: %w", err)
	}
	policy, err := cache.ParsePolicy(p.Policy)
	if err != nil {
		return p, fmt.Errorf("cache properties row %d: %w", p.ID, err)
	}
	if p.MaxCapacityMB < 0 {
		return p, fmt.Errorf("cache properties row %d: negative capacity %d MB", p.ID, p.MaxCapacityMB)
	}
	if c := int64(p.MaxCapacityMB) * cache.MB; c != s.cache.Stats().Capacity {
		s.mrc.SetCapacity(c) // the curve's sizes are multiples of the capacity: start it over
	}
	evicted := s.cache.Configure(int64(p.MaxCapacityMB)*cache.MB, policy)
	s.log.Info("cache configured", "capacity_mb", p.MaxCapacityMB, "policy", policy.String(), "evicted", evicted)
	return p, nil
}
