package app

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// appMetrics are the backend's own counters beside the per-route request metrics.
type appMetrics struct {
	reads       *prometheus.CounterVec // by source: cache or disk
	dbErrors    prometheus.Counter
	cacheErrors prometheus.Counter
	orphans     prometheus.Counter
}

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
	reg.MustRegister(m.reads, m.dbErrors, m.cacheErrors, m.orphans)
	return m
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
