package route

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// MetricsPath is where both services serve their Prometheus metrics.
const MetricsPath = "/metrics"

// Metrics counts and times a service's requests by route and status.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewRegistry returns a registry with the Go runtime and process collectors, so each server exposes
// its own metrics and nothing lives in package-level state.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// NewMetrics registers the request metrics of service (e.g. "backend") on reg.
func NewMetrics(reg prometheus.Registerer, service string) *Metrics {
	labels := prometheus.Labels{"service": service}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgcache_http_requests_total", Help: "HTTP requests answered, by route and status.", ConstLabels: labels,
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "imgcache_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route and status.",
			ConstLabels: labels,
			// From 50 µs (a cache hit on loopback) to 10 s (a large upload on a slow disk).
			Buckets: prometheus.ExponentialBuckets(50e-6, 2.5, 12),
		}, []string{"route", "status"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe records one answered request. label comes from the route table, never from the caller's
// path, whose keys would make the label set unbounded.
func (m *Metrics) observe(rc *fasthttp.RequestCtx, label string, start time.Time) {
	status := strconv.Itoa(rc.Response.StatusCode())
	m.requests.WithLabelValues(label, status).Inc()
	m.duration.WithLabelValues(label, status).Observe(time.Since(start).Seconds())
}

// MetricsHandler serves the metrics of g in the Prometheus text format.
func MetricsHandler(g prometheus.Gatherer) Handler {
	h := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return func(_ context.Context, rc *fasthttp.RequestCtx) error {
		h(rc)
		return nil
	}
}
