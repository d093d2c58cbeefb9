package app

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"imgcache/database"
)

// appMetrics are the backend's own counters beside the per-route request metrics.
type appMetrics struct {
	reads       *prometheus.CounterVec // by source: cache or disk
	dbErrors    prometheus.Counter
	cacheErrors prometheus.Counter
	orphans     prometheus.Counter
	queries     *prometheus.CounterVec // database calls, by operation
	storageGets prometheus.Counter     // object reads from the image store
	batched     *prometheus.CounterVec // calls carried by the batched operations, by operation
}

// dbOps are the operations imgcache_db_queries_total counts, each exported from the start at 0 so
// that a harness reading a difference sees the series before the first call.
var dbOps = []string{"ping", "get_image", "get_images", "put_image", "put_images", "list_images", "count_images", "delete_all_images",
	"find_images", "delete_image", "latest_cache_properties", "insert_cache_properties", "stats_since",
	"named_locations"}

func newAppMetrics(reg *prometheus.Registry) *appMetrics {
	labels := prometheus.Labels{"service": "backend"}
	m := &appMetrics{
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgcache_image_reads_total",
			Help: "Images read, by where they came from (cache or disk).", ConstLabels: labels}, []string{"source"}),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgcache_database_errors_total",
			Help: "Failed database operations.", ConstLabels: labels}),
		cacheErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgcache_memcache_errors_total",
			Help: "Calls to the memcache service that failed (unreachable or 5xx).", ConstLabels: labels}),
	}
	m.orphans = prometheus.NewCounter(prometheus.CounterOpts{Name: "imgcache_orphans_removed_total",
		Help: "Objects the sweep removed because no row named them.", ConstLabels: labels})
	m.queries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgcache_db_queries_total",
		Help: "Calls of the database by this backend, by operation: a batch of row lookups or a group " +
			"commit counts once.", ConstLabels: labels}, []string{"op"})
	for _, op := range dbOps {
		m.queries.WithLabelValues(op)
	}
	m.storageGets = prometheus.NewCounter(prometheus.CounterOpts{Name: "imgcache_storage_gets_total",
		Help: "Objects read from the image store (cache misses and thumbnails).", ConstLabels: labels})
	m.batched = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgcache_db_batched_total",
		Help: "Reads' row lookups (get_images) and uploads' rows (put_images) carried by the batched " +
			"queries: divided by imgcache_db_queries_total of the same op, the mean batch size.",
		ConstLabels: labels}, []string{"op"})
	for _, op := range []string{"get_images", "put_images"} {
		m.batched.WithLabelValues(op)
	}
	reg.MustRegister(m.reads, m.dbErrors, m.cacheErrors, m.orphans, m.queries, m.storageGets, m.batched)
	return m
}

// countedStore counts every call of the database by operation.
type countedStore struct {
	s Store
	q *prometheus.CounterVec
}

var _ Store = countedStore{}

func (c countedStore) inc(op string) { c.q.WithLabelValues(op).Inc() }

func (c countedStore) Ping(ctx context.Context) error { c.inc("ping"); return c.s.Ping(ctx) }

func (c countedStore) GetImage(ctx context.Context, key string) (database.Image, error) {
	c.inc("get_image")
	return c.s.GetImage(ctx, key)
}

func (c countedStore) GetImages(ctx context.Context, keys []string) ([]database.Image, error) {
	c.inc("get_images")
	return c.s.GetImages(ctx, keys)
}

func (c countedStore) PutImages(ctx context.Context, imgs []database.Image) []database.PutResult {
	c.inc("put_images")
	return c.s.PutImages(ctx, imgs)
}

func (c countedStore) PutImage(ctx context.Context, img database.Image) (string, error) {
	c.inc("put_image")
	return c.s.PutImage(ctx, img)
}

func (c countedStore) ListImages(ctx context.Context) ([]database.Image, error) {
	c.inc("list_images")
	return c.s.ListImages(ctx)
}

func (c countedStore) CountImages(ctx context.Context) (int, error) {
	c.inc("count_images")
	return c.s.CountImages(ctx)
}

func (c countedStore) DeleteAllImages(ctx context.Context) ([]string, error) {
	c.inc("delete_all_images")
	return c.s.DeleteAllImages(ctx)
}

func (c countedStore) FindImages(ctx context.Context, q database.ImageQuery) (database.ImagePage, error) {
	c.inc("find_images")
	return c.s.FindImages(ctx, q)
}

func (c countedStore) DeleteImage(ctx context.Context, key string) (string, error) {
	c.inc("delete_image")
	return c.s.DeleteImage(ctx, key)
}

func (c countedStore) LatestCacheProperties(ctx context.Context) (database.CacheProperties, error) {
	c.inc("latest_cache_properties")
	return c.s.LatestCacheProperties(ctx)
}

func (c countedStore) InsertCacheProperties(ctx context.Context, p database.CacheProperties) (database.CacheProperties, error) {
	c.inc("insert_cache_properties")
	return c.s.InsertCacheProperties(ctx, p)
}

func (c countedStore) StatsSince(ctx context.Context, since time.Time) ([]database.StatsRow, error) {
	c.inc("stats_since")
	return c.s.StatsSince(ctx, since)
}

func (c countedStore) NamedLocations(ctx context.Context, locations []string) (map[string]bool, error) {
	c.inc("named_locations")
	return c.s.NamedLocations(ctx, locations)
}

// countedObjects counts the reads of the image store.
type countedObjects struct {
	Objects
	gets prometheus.Counter
}

func (c countedObjects) Get(ctx context.Context, name string) ([]byte, error) {
	c.gets.Inc()
	return c.Objects.Get(ctx, name)
}

// breakerCollector reports the circuit breaker of every memcache node the backend routes to, read
// when scraped.
type breakerCollector struct {
	s                *Server
	state, ejections *prometheus.Desc
}

func newBreakerCollector(s *Server) *breakerCollector {
	labels := prometheus.Labels{"service": "backend"}
	return &breakerCollector{s: s,
		state: prometheus.NewDesc("imgcache_memcache_node_breaker_state",
			"The circuit breaker of a memcache node: 0 closed (routed to), 1 ejected (its keys read from the store), 2 probing.",
			[]string{"node"}, labels),
		ejections: prometheus.NewDesc("imgcache_memcache_node_ejections_total",
			"Times the circuit breaker ejected a memcache node after failed calls.", []string{"node"}, labels),
	}
}

// Describe implements prometheus.Collector.
func (c *breakerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.state
	ch <- c.ejections
}

// Collect implements prometheus.Collector.
func (c *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.pool == nil {
		return
	}
	for _, b := range c.s.pool.Breakers() {
		id := strconv.FormatInt(b.Member.ID, 10)
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, float64(b.State), id)
		ch <- prometheus.MustNewConstMetric(c.ejections, prometheus.CounterValue, float64(b.Ejections), id)
	}
}
