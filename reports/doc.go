// Package reports draws imgcache's charts with gonum/plot: the cache statistics page's charts and the
// benchmark's latency and throughput graphs, and writes the benchmark report around them.
package reports
