package app

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"imgcache/memcache/metrics"
)

// appMetrics are the backend's own counters beside the per-route request metrics.
type appMetrics struct {
	handler     fasthttp.RequestHandler // serves /metrics
	reads       *prometheus.CounterVec  // by source: cache or disk
	dbErrors    prometheus.Counter
	cacheErrors prometheus.Counter
}

func newAppMetrics(reg *prometheus.Registry) *appMetrics {
	labels := prometheus.Labels{"service": "backend"}
	m := &appMetrics{
		handler: metrics.Handler(reg),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgcache_image_reads_total",
			Help: "Images read, by where they came from (cache or disk).", ConstLabels: labels}, []string{"source"}),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgcache_database_errors_total",
			Help: "Failed database operations.", ConstLabels: labels}),
		cacheErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgcache_memcache_errors_total",
			Help: "Calls to the memcache service that failed (unreachable or 5xx).", ConstLabels: labels}),
	}
	reg.MustRegister(m.reads, m.dbErrors, m.cacheErrors)
	return m
}

// routeName labels a request for the metrics from the fixed set of routes, never from a caller's path.
func routeName(ctx *fasthttp.RequestCtx) string {
	if strings.HasPrefix(string(ctx.URI().PathOriginal()), apiKeyPrefix) {
		return apiKeyPrefix
	}
	// Each case returns its literal: a switch on the converted path does not allocate.
	switch string(ctx.Path()) {
	case "/api/upload":
		return "/api/upload"
	case "/api/list_keys":
		return "/api/list_keys"
	case "/api/delete_all":
		return "/api/delete_all"
	case "/healthz":
		return "/healthz"
	case metrics.Path:
		return metrics.Path
	case "/":
		return "/"
	case "/image":
		return "/image"
	case "/upload_image":
		return "/upload_image"
	case "/keys_list":
		return "/keys_list"
	case "/cache_properties":
		return "/cache_properties"
	case "/cache_properties/clear":
		return "/cache_properties/clear"
	case "/cache_stats":
		return "/cache_stats"
	}
	switch p := ctx.Path(); {
	case strings.HasPrefix(string(p), chartPrefix):
		return chartPrefix
	case strings.HasPrefix(string(p), staticPrefix):
		return staticPrefix
	}
	return "other"
}
