package app

import (
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
