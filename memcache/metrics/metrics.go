// Package metrics instruments imgcache's fasthttp servers with Prometheus: requests and latency by route
// and status, served on /metrics from a registry of the server's own.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Path is where the metrics are served.
const Path = "/metrics"

// HTTP counts and times a server's requests.
type HTTP struct {
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

// NewHTTP registers the request metrics of service (e.g. "backend") on reg.
func NewHTTP(reg prometheus.Registerer, service string) *HTTP {
	labels := prometheus.Labels{"service": service}
	m := &HTTP{
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

// Wrap times h. route names the request's route from a fixed set (never the raw path, whose keys would
// make the label set unbounded).
func (m *HTTP) Wrap(route func(*fasthttp.RequestCtx) string, h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		start := time.Now()
		h(ctx)
		r, status := route(ctx), strconv.Itoa(ctx.Response.StatusCode())
		m.requests.WithLabelValues(r, status).Inc()
		m.duration.WithLabelValues(r, status).Observe(time.Since(start).Seconds())
	}
}

// Handler serves the metrics of g in the Prometheus text format.
func Handler(g prometheus.Gatherer) fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
}
