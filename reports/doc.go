// Package reports is the look every imgcache chart shares: gonum/plot plots in one typeface, and the
// note a chart shows when it has nothing to draw. Its subpackages draw the charts: statschart those
// of the cache statistics page (linked by the backend), bench the benchmark's graphs and report
// (linked by loadgen), so the backend binary links neither loadgen nor vegeta.
package reports
