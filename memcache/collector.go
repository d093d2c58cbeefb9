package memcache

import (
	"github.com/prometheus/client_golang/prometheus"

	"imgcache/memcache/cache"
)

// cacheCollector exposes the engine's gauges and counters, read once per scrape from one Stats call so
// the figures of a scrape are consistent with each other.
type cacheCollector struct {
	cache                                            *cache.Cache
	items, bytes, capacity                           *prometheus.Desc
	gets, hits, misses, puts, fills, refused, evicts *prometheus.Desc
	invalidations                                    *prometheus.Desc
}

var _ prometheus.Collector = (*cacheCollector)(nil)

func newCacheCollector(c *cache.Cache) *cacheCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("imgcache_cache_"+name, help, labels, nil)
	}
	return &cacheCollector{
		cache:         c,
		items:         d("items", "Entries in the cache."),
		bytes:         d("bytes", "Bytes stored (keys plus values)."),
		capacity:      d("capacity_bytes", "Configured capacity in bytes, by policy.", "policy"),
		gets:          d("gets_total", "Lookups."),
		hits:          d("hits_total", "Lookups that found the key."),
		misses:        d("misses_total", "Lookups that did not find the key."),
		puts:          d("puts_total", "Unconditional stores."),
		fills:         d("fills_total", "Stores under a lease that were accepted."),
		refused:       d("refused_fills_total", "Stores under a lease refused because the key was invalidated after the miss."),
		evicts:        d("evictions_total", "Entries evicted to make room."),
		invalidations: d("invalidations_total", "Invalidations of a key."),
	}
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.items, c.bytes, c.capacity, c.gets, c.hits, c.misses, c.puts, c.fills, c.refused, c.evicts, c.invalidations} {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.cache.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(c.items, float64(st.Items))
	gauge(c.bytes, float64(st.Bytes))
	gauge(c.capacity, float64(st.Capacity), st.Policy.String())
	counter(c.gets, st.Gets)
	counter(c.hits, st.Hits)
	counter(c.misses, st.Misses)
	counter(c.puts, st.Puts)
	counter(c.fills, st.Fills)
	counter(c.refused, st.RefusedFills)
	counter(c.evicts, st.Evictions)
	counter(c.invalidations, st.Invalidations)
}
