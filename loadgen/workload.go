package loadgen

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"imgcache/loadgen/cachetrace"
	"imgcache/reports/results"
)

// Workload presets: the request mixes of YCSB's core workloads A (update heavy), B (read mostly)
// and C (read only), each with YCSB's Zipf constant and updates to existing keys.
const (
	WorkloadDefault = "default"
	WorkloadYCSBA   = "ycsb-a"
	WorkloadYCSBB   = "ycsb-b"
	WorkloadYCSBC   = "ycsb-c"
	WorkloadYCSB    = "ycsb" // A, B and C as three mixes of one run
	// YCSBZipfS is YCSB's Zipf constant.
	YCSBZipfS = 0.99
)

// ycsbMixes are the mixes of YCSB's workloads.
func ycsbMixes(name string) ([]results.Mix, bool) {
	switch name {
	case WorkloadYCSBA:
		return []results.Mix{{Reads: 50, Writes: 50}}, true
	case WorkloadYCSBB:
		return []results.Mix{{Reads: 95, Writes: 5}}, true
	case WorkloadYCSBC:
		return []results.Mix{{Reads: 100, Writes: 0}}, true
	case WorkloadYCSB:
		return []results.Mix{{Reads: 50, Writes: 50}, {Reads: 95, Writes: 5}, {Reads: 100, Writes: 0}}, true
	}
	return nil, false
}

// ApplyWorkload sets c's mixes, popularity and write keys for the presets in names (comma-
// separated, e.g. "ycsb-a,ycsb-c"). It refuses to combine presets with mixes, a Zipf exponent, a
// popularity or write keys set by hand, which they would silently override.
func ApplyWorkload(c *Config, names string) error {
	if names == "" || names == WorkloadDefault {
		c.Workload = WorkloadDefault
		return nil
	}
	if c.Mixes != nil || c.ZipfS != 0 || c.Popularity != "" || c.WriteKeys != "" {
		return fmt.Errorf("workload %q sets the mixes, the popularity and the write keys itself: %w", names, ErrBadConfig)
	}
	for _, n := range strings.Split(names, ",") {
		mixes, ok := ycsbMixes(strings.TrimSpace(n))
		if !ok {
			return fmt.Errorf("workload %q (want %s, %s, %s, %s or %s): %w", n, WorkloadDefault, WorkloadYCSBA, WorkloadYCSBB, WorkloadYCSBC, WorkloadYCSB, ErrBadConfig)
		}
		for _, m := range mixes {
			if !slices.Contains(c.Mixes, m) {
				c.Mixes = append(c.Mixes, m)
			}
		}
	}
	c.Workload = names
	c.Popularity, c.ZipfS, c.WriteKeys = PopularityZipf, YCSBZipfS, WriteKeysSame
	return nil
}

// Limits of a replayed trace: every key is an image uploaded before each series.
const (
	DefaultTraceMaxKeys     = 5000
	DefaultTraceMaxRequests = 10_000_000
)

// LoadTrace reads a cache trace in Twitter's CSV format for replay and fills c: the data set
// becomes one image a key of the trace, of three quarters of its value size (the cache holds
// the image's base64, a third larger, so it holds what the traced cache held), and the one mix
// is the trace's own share of reads, rounded to whole percent.
func LoadTrace(c *Config, path string, maxKeys int) error {
	if c.Mixes != nil || c.Popularity != "" || c.WriteKeys != "" || (c.Workload != "" && c.Workload != WorkloadDefault) {
		return fmt.Errorf("a trace sets the keys, the mix and the write keys itself: %w", ErrBadConfig)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	tr, err := cachetrace.Load(f, maxKeys, DefaultTraceMaxRequests)
	if err != nil {
		return fmt.Errorf("trace %s: %w", path, err)
	}
	known := make([]int, 0, len(tr.Sizes))
	for _, s := range tr.Sizes {
		if s > 0 {
			known = append(known, s)
		}
	}
	median := DefaultMedianBytes * 4 / 3
	if len(known) > 0 {
		slices.Sort(known)
		median = known[len(known)/2]
	}
	sizes := make([]int, len(tr.Sizes))
	for i, s := range tr.Sizes {
		if s == 0 {
			s = median // a key the trace never gives a size
		}
		sizes[i] = s * 3 / 4
	}
	reads := int(math.Round(100 * float64(tr.Reads) / float64(len(tr.Requests))))
	c.Trace, c.TraceName = tr, filepath.Base(path)
	c.Workload = "trace"
	c.Mixes = []results.Mix{{Reads: reads, Writes: 100 - reads}}
	c.Dataset.Images, c.Dataset.Sizes = len(sizes), sizes
	if c.Dataset.MinBytes == 0 {
		c.Dataset.MinBytes = 1000 // the smallest image loadgen makes: traces hold small values
	}
	return nil
}
