// Package app is the imgcache backend's domain and JSON API: uploads, reads through the memcache pool
// that never serve a stale image, deletes, the image store, the orphan sweep and pool membership. Its
// HTML pages live in app/web, mounted through Config.Pages.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/sync/singleflight"

	"imgcache/app/imagestore"
	"imgcache/database"
	"imgcache/memcache/client"
	"imgcache/memcache/pool"
	"imgcache/memcache/route"
	"imgcache/memcache/wire"
)

// Defaults for a zero Config.
const (
	DefaultAddr          = "127.0.0.1:5000"
	DefaultMemcacheURL   = "http://127.0.0.1:5001"
	DefaultDataDir       = "data"
	DefaultMaxUpload     = 16 << 20 // bytes of image; the request limit adds room for the form around it
	DefaultMaxCapacityMB = 2048
	// DefaultMaxImageSide and DefaultMaxImagePixels bound an image's dimensions as its header states
	// them: a small file can declare a huge image, which whoever decodes it would have to allocate.
	DefaultMaxImageSide   = 16384
	DefaultMaxImagePixels = 100_000_000
	// DefaultMemcacheTimeout bounds a cache call on a request's path up to its first byte: a node on
	// the same network answers in a millisecond or two, so one that takes 100 ms is failing, and the
	// read is better served by the store (a few such failures in a row eject the node).
	DefaultMemcacheTimeout = 100 * time.Millisecond
	// DefaultDrain is how long a stopping backend tells load balancers it is draining before it closes
	// its listener: a few of their health checks (every 1 to 2 s is usual).
	DefaultDrain = 5 * time.Second
	// closeGrace bounds how long Close waits for requests in flight.
	closeGrace = 10 * time.Second
	// DefaultMaxConnsPerIP caps one client address's connections, so that one client holding many idle
	// connections cannot take the server's capacity from the others.
	DefaultMaxConnsPerIP = 1024
	// idleTimeout closes a keep-alive connection that sends nothing for this long.
	idleTimeout = 30 * time.Second
	// formOverhead is what a multipart body may carry besides the image (boundaries, headers, the key).
	formOverhead = 64 << 10
	// DefaultReports is loadgen's default -out: a backend started beside it lists what it wrote.
	DefaultReports = "reports/out"
	// NoSample in Config.ReportSample lists no sample.
	NoSample = "-"
)

// Config configures a Server; the zero value of each field means its default.
type Config struct {
	Addr           string // listen address
	MemcacheURL    string // base URL of the memcache service
	MemcacheSecret string // the memcache's shared secret, if it has one
	// MemcacheTimeout bounds a cache call on a request's path up to its first byte (the value's
	// transfer is allowed time by its size); default DefaultMemcacheTimeout.
	MemcacheTimeout time.Duration
	// Drain is how long a backend told to stop answers /healthz 503 "draining" while still serving,
	// so that a load balancer sends no new requests before the listener closes; default
	// DefaultDrain; negative: none.
	Drain          time.Duration
	DB             string        // database DSN; default sqlite:<DataDir>/imgcache.db
	DBTimeout      time.Duration // deadline of each database call; default database.DefaultTimeout
	DataDir        string        // folder of the image files (under DataDir/images) and the default database
	MaxUpload      int           // largest accepted image in bytes
	MaxCapacityMB  int           // largest cache capacity the properties form accepts
	MaxImageSide   int           // largest width or height of an accepted image, in pixels
	MaxImagePixels int64         // largest area of an accepted image, in pixels
	MaxConnsPerIP  int           // most connections one client address may hold
	// SweepGrace is the age an object must reach before the orphan sweep may remove it; SweepInterval
	// how often the sweep runs (besides at start); a negative interval turns the sweep off.
	SweepGrace    time.Duration
	SweepInterval time.Duration
	Logger        *slog.Logger
	// Storage names the image store: file:DIR or s3://BUCKET?endpoint=URL[&region=R] (see
	// ParseStorage); default file:<DataDir>/images.
	Storage string
	// S3AccessKey and S3SecretKey are the credentials of s3:// storage; the main reads them from
	// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
	S3AccessKey, S3SecretKey string
	// NodeTimeout is how long a memcache node may go without a heartbeat before it is routed around;
	// PoolSync how often the pool's table is re-read.
	NodeTimeout, PoolSync time.Duration
	// Autoscale turns the pool's auto-scaler on while no settings were saved on the pool page.
	Autoscale bool
	// PublicHosts are the host names the backend answers to besides IP addresses and localhost: the
	// names users reach it by (a load balancer's). Requests for any other name are refused (421).
	PublicHosts []string
	// Reports is the folder of benchmark runs the /reports pages list: the folder itself when it holds
	// results.json, and each folder in it that does. Default DefaultReports.
	Reports string
	// ReportSample is the committed sample run listed beside them: "" looks for reports/sample under
	// the working directory, then beside the executable's folder; NoSample lists none.
	ReportSample string
	// Pages builds the HTML pages over the server (web.New); nil serves the JSON API alone, and any
	// other path answers in the API's failure shape.
	Pages func(*Server) Pages
}

// Pages is the HTML side of the backend (package app/web), mounted beside the JSON API.
type Pages interface {
	// Routes are the pages' routes, served after the API's. Those with a Nav label make the
	// navigation bar, in this order.
	Routes() []route.Route
	// Error answers err as a page: a request off the API that failed, or matched no route.
	Error(rc *fasthttp.RequestCtx, err error)
}

// Parts are the server's configuration and the services it runs over, for the pages.
type Parts struct {
	Config  Config // with its defaults filled in
	Log     *slog.Logger
	Cache   Cache
	Store   Store
	Objects Objects
	Pool    Pool      // nil over a plain Cache
	PoolDB  PoolStore // nil without Pool
}

// Parts returns what the server runs over.
func (s *Server) Parts() Parts {
	return Parts{Config: s.cfg, Log: s.log, Cache: s.cache, Store: s.store, Objects: s.objects, Pool: s.pool, PoolDB: s.poolDB}
}

// CacheDown reports whether the last call to the memcache found it unreachable.
func (s *Server) CacheDown() bool { return s.cacheDown.Load() }

// WithDefaults returns c with each zero field set to its default.
func (c Config) WithDefaults() Config { return c.withDefaults() }

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.MemcacheURL == "" {
		c.MemcacheURL = DefaultMemcacheURL
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.DB == "" {
		c.DB = "sqlite:" + c.DataDir + "/imgcache.db"
	}
	if c.MaxUpload <= 0 {
		c.MaxUpload = DefaultMaxUpload
	}
	if c.MaxCapacityMB <= 0 {
		c.MaxCapacityMB = DefaultMaxCapacityMB
	}
	if c.MaxImageSide <= 0 {
		c.MaxImageSide = DefaultMaxImageSide
	}
	if c.MaxImagePixels <= 0 {
		c.MaxImagePixels = DefaultMaxImagePixels
	}
	if c.MaxConnsPerIP <= 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.MemcacheTimeout <= 0 {
		c.MemcacheTimeout = DefaultMemcacheTimeout
	}
	if c.Drain == 0 {
		c.Drain = DefaultDrain
	}
	if c.NodeTimeout <= 0 {
		c.NodeTimeout = DefaultNodeTimeout
	}
	if c.PoolSync <= 0 {
		c.PoolSync = DefaultPoolSync
	}
	if c.SweepGrace <= 0 {
		c.SweepGrace = DefaultSweepGrace
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.Reports == "" {
		c.Reports = DefaultReports
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Cache is what the backend needs of the memcache service. Keys are object names, which never change
// content, so a cached value can never be stale; see Read.
type Cache interface {
	AppendGet(ctx context.Context, dst []byte, key string) ([]byte, wire.Lease, error)
	Fill(ctx context.Context, key string, value []byte, lease wire.Lease) error
	Invalidate(ctx context.Context, key string) error
	Clear(ctx context.Context) error
	Refresh(ctx context.Context) error
	Stats(ctx context.Context) (wire.Stats, error)
	Health(ctx context.Context) error
}

var _ Cache = (*client.Client)(nil)

// Store is what the backend needs of the database.
type Store interface {
	Ping(ctx context.Context) error
	GetImage(ctx context.Context, key string) (database.Image, error)
	// GetImages returns the rows of those keys that have one, in one query.
	GetImages(ctx context.Context, keys []string) ([]database.Image, error)
	PutImage(ctx context.Context, img database.Image) (previous string, err error)
	// PutImages writes rows in one transaction; see database.DB.PutImages.
	PutImages(ctx context.Context, imgs []database.Image) []database.PutResult
	ListImages(ctx context.Context) ([]database.Image, error)
	CountImages(ctx context.Context) (int, error)
	DeleteAllImages(ctx context.Context) ([]string, error)
	FindImages(ctx context.Context, q database.ImageQuery) (database.ImagePage, error)
	DeleteImage(ctx context.Context, key string) (location string, err error)
	LatestCacheProperties(ctx context.Context) (database.CacheProperties, error)
	InsertCacheProperties(ctx context.Context, p database.CacheProperties) (database.CacheProperties, error)
	StatsSince(ctx context.Context, since time.Time) ([]database.StatsRow, error)
	NamedLocations(ctx context.Context, locations []string) (map[string]bool, error)
}

var _ Store = (*database.DB)(nil)

// Objects is what the backend needs of the image store: a folder or an object store bucket. The store
// chooses every name, never from the key, and never reuses one.
type Objects interface {
	// Put stores data under a new name and returns the name once the object is durable.
	Put(ctx context.Context, data []byte, contentType string) (name string, err error)
	// Get returns an object's bytes, or an error wrapping imagestore.ErrNotFound.
	Get(ctx context.Context, name string) ([]byte, error)
	// Delete removes an object; a missing one is not an error.
	Delete(ctx context.Context, name string) error
	// List calls fn for every object, with its modification time, stopping at fn's first error.
	List(ctx context.Context, fn func(name string, modified time.Time) error) error
}

var _ Objects = (*imagestore.Store)(nil)

// Server is a running backend. Start it with Start (or New, Listen and Serve) and stop it with Close.
type Server struct {
	cfg     Config
	log     *slog.Logger
	cache   Cache
	store   Store
	objects Objects
	pool    Pool      // the cache when it is a pool of memcache nodes (Start); nil over a plain Cache
	poolDB  PoolStore // the pool's table, events and settings; nil with pool

	loads   singleflight.Group                           // one object read among concurrent misses of one object name
	uploads uploads                                      // in flight, for the orphan sweep
	lookups *batcher[string, rowResult]                  // row lookups of concurrent reads, batched
	commits *batcher[database.Image, database.PutResult] // rows of concurrent uploads, committed in groups

	metrics   *appMetrics
	cacheDown atomic.Bool // last seen state: logged on change, not per request, and shown on the pages
	draining  atomic.Bool // told to stop: /healthz answers 503 while everything else is served
	pages     Pages       // nil without HTML pages
	routes    *route.Table

	// base is the parent of every request's context, cancelled by Close for requests that outlive
	// the shutdown's grace period.
	base       context.Context
	stop       context.CancelFunc
	background sync.WaitGroup // goroutines the server owns (the sweep), stopped by Close
	forgets    sync.WaitGroup // invalidations after an upload's answer, each bounded by afterCommit

	ln        net.Listener
	http      *fasthttp.Server
	closers   []func() error
	serveErr  chan error
	closeOnce sync.Once
	closeErr  error
}

// New builds a server over the given parts without opening anything; Start wires the real ones.
func New(cfg Config, c Cache, s Store, o Objects) *Server {
	return newServer(cfg, c, s, o, nil, nil)
}

// newServer is New with the pool, when the cache is one; the pages are built last, over the whole server.
func newServer(cfg Config, c Cache, s Store, o Objects, p Pool, pdb PoolStore) *Server {
	cfg = cfg.withDefaults()
	srv := &Server{cfg: cfg, log: cfg.Logger, cache: c, store: s, objects: o, pool: p, poolDB: pdb,
		serveErr: make(chan error, 1)}
	srv.base, srv.stop = context.WithCancel(context.Background())
	reg := route.NewRegistry()
	srv.metrics = newAppMetrics(reg)
	if s != nil {
		srv.store = countedStore{s: s, q: srv.metrics.queries}
	}
	if o != nil {
		srv.objects = countedObjects{Objects: o, gets: srv.metrics.storageGets}
	}
	srv.newRowBatchers()
	reg.MustRegister(newBreakerCollector(srv))
	routes := srv.routeTable(route.MetricsHandler(reg))
	if cfg.Pages != nil {
		srv.pages = cfg.Pages(srv)
		routes = append(routes, srv.pages.Routes()...)
	}
	srv.routes = route.New(route.Config{Base: srv.base, OnError: srv.answerError, Log: cfg.Logger, Guard: srv.admit,
		Metrics: route.NewMetrics(reg, "backend")}, routes)
	srv.http = &fasthttp.Server{
		Handler:            srv.handle,
		Name:               "imgcache",
		MaxRequestBodySize: cfg.MaxUpload + formOverhead,
		ErrorHandler:       srv.readError,
		Logger:             route.Logger(cfg.Logger),
		ReadTimeout:        60 * time.Second,
		WriteTimeout:       60 * time.Second,
		IdleTimeout:        idleTimeout,
		MaxConnsPerIP:      cfg.MaxConnsPerIP,
		ReadBufferSize:     8 << 10, // the request line and headers; more is a 414 or 431
		NoDefaultDate:      true,
		CloseOnShutdown:    true,
		// Multipart bodies are parsed by the upload handler from memory: fasthttp's own parser would
		// spill large files to the system temp folder, outside the data folder.
		DisablePreParseMultipartForm: true,
		StreamRequestBody:            true, // see limitBody
		HeaderReceived:               srv.headerReceived,
	}
	return srv
}

// Start opens the image store, the database and the memcache client, binds the listener (a busy port is
// an error here) and serves in the background.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	objects, closeObjects, err := OpenObjects(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db, err := database.Open(ctx, cfg.DB)
	if err != nil {
		closeObjects()
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetTimeout(cfg.DBTimeout)
	logDurability(ctx, cfg.Logger, db)
	if _, err := client.New(cfg.MemcacheURL, client.Options{}); err != nil {
		db.Close()
		closeObjects()
		return nil, err // a bad -memcache URL is a start error, not a pool that never works
	}
	var s *Server
	mc := pool.New(pool.Options{Node: client.Options{Secret: cfg.MemcacheSecret, Timeout: cfg.MemcacheTimeout},
		OnBreaker: func(m pool.Member, state pool.BreakerState) { s.noteBreaker(m, state) }})
	s = newServer(cfg, mc, db, objects, mc, db)
	s.closers = append(s.closers, mc.Close, db.Close, closeObjects)
	if err := s.Listen(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.SyncPool(ctx); err != nil {
		s.log.Warn("cannot read the memcache pool's nodes; using the configured memcache until it works", "err", err)
		mc.SetMembers([]pool.Member{{ID: 0, URL: cfg.MemcacheURL}})
	}
	if err := mc.Health(ctx); err != nil {
		s.NoteCacheErr(err)
	}
	s.background.Add(2)
	go s.followPool()
	go s.autoscaleLoop()
	if cfg.SweepInterval > 0 {
		s.background.Add(1)
		go s.sweepLoop()
	}
	go s.Serve()
	return s, nil
}

// logDurability logs whether the MySQL server syncs its log at every commit, which an upload's answer
// counts on: with innodb_flush_log_at_trx_commit other than 1, an acknowledged upload can be lost in a
// power cut (not in a crash of the server process alone when it is 2).
func logDurability(ctx context.Context, log *slog.Logger, db *database.DB) {
	v, err := db.FlushLogAtTrxCommit(ctx)
	switch {
	case err != nil:
		log.Warn("cannot read the database's durability setting", "err", err)
	case v == "1":
		log.Info("database syncs its log at every commit", "innodb_flush_log_at_trx_commit", v)
	case v != "":
		log.Warn("database does not sync its log at every commit: an acknowledged upload can be lost in a power cut; set innodb_flush_log_at_trx_commit=1",
			"innodb_flush_log_at_trx_commit", v)
	}
}

// Run starts a server and serves until ctx is cancelled, then drains and shuts down gracefully.
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	s.log.Info("backend listening", "url", s.URL(), "memcache", s.cfg.MemcacheURL, "data", s.cfg.DataDir)
	select {
	case <-ctx.Done():
	case err := <-s.serveErr:
		s.Close()
		return fmt.Errorf("serve: %w", err)
	}
	return s.Shutdown()
}

// Shutdown drains, then closes: /healthz answers 503 "draining" for the configured Drain while every
// other request is served as before, so that a load balancer polling it stops sending new requests
// before the listener closes; then Close finishes the requests in flight, within its bound.
func (s *Server) Shutdown() error {
	if s.cfg.Drain > 0 && s.draining.CompareAndSwap(false, true) {
		s.log.Info("draining: /healthz answers 503 until the listener closes", "for", s.cfg.Drain)
		t := time.NewTimer(s.cfg.Drain)
		select {
		case <-t.C:
		case err := <-s.serveErr:
			t.Stop()
			s.Close()
			return fmt.Errorf("serve: %w", err)
		}
	}
	return s.Close()
}

// Listen binds the configured address.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Serve serves on the bound listener until Close.
func (s *Server) Serve() {
	if err := s.http.Serve(s.ln); err != nil {
		s.serveErr <- err
	}
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Close finishes in-flight requests and closes what Start opened. Safe to call twice.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.ln != nil {
			ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
			if err := s.http.ShutdownWithContext(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shutdown http: %w", err))
			}
			cancel()
			// Shutdown does nothing if Serve has not started yet; closing the listener makes a late
			// Serve return at once instead of serving forever.
			if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, fmt.Errorf("close listener: %w", err))
			}
		}
		s.stop() // requests that outlived the grace period, and the sweep
		s.background.Wait()
		s.lookups.wait()
		s.commits.wait()
		s.forgets.Wait()
		for _, c := range s.closers {
			if err := c(); err != nil {
				errs = append(errs, err)
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
