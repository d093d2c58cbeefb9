// Package cost measures what a load step costs each tier of the system: the CPU time of the
// processes loadgen started, summed by tier from Linux's /proc, and the image-store reads and
// database queries the backends count in their Prometheus metrics.
package cost

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"imgcache/loadgen/cpuload"
)

// Tiers, as results.json keys a step's cpu_ns.
const (
	TierBackend  = "backend"
	TierMemcache = "memcache"
	TierStorage  = "storage"  // the S3 server; absent with folder storage
	TierDatabase = "database" // a local MySQL/MariaDB server; absent with embedded SQLite
	TierLoadgen  = "loadgen"  // loadgen itself, a proxy inside it included
)

// The backends' counters, as the backend names them.
const (
	MetricStorageGets = "imgcache_storage_gets_total" // objects read from the image store
	MetricDBQueries   = "imgcache_db_queries_total"   // queries issued, labelled by op
)

// userHZ is the unit of /proc/PID/stat's times: USER_HZ, 100 on every Linux architecture Go
// supports (the kernel's own HZ may differ; /proc converts).
const userHZ = 100

// metricsTimeout bounds one read of a backend's /metrics.
const metricsTimeout = 5 * time.Second

// Meter reads the counters of a run's processes and backends. It is safe for concurrent use.
type Meter struct {
	proc    string
	tiers   map[string][]int
	metrics []string // the backends' /metrics URLs
	client  *http.Client
}

// New returns a meter of the processes tiers (by tier; loadgen's own process is added to
// TierLoadgen) and of the backends at backendURLs, reading proc (normally "/proc"; "" means
// that).
func New(proc string, tiers map[string][]int, backendURLs []string) *Meter {
	if proc == "" {
		proc = "/proc"
	}
	t := make(map[string][]int, len(tiers)+1)
	for k, v := range tiers {
		t[k] = append([]int(nil), v...)
	}
	t[TierLoadgen] = append(t[TierLoadgen], os.Getpid())
	m := &Meter{proc: proc, tiers: t, client: &http.Client{Timeout: metricsTimeout}}
	for _, u := range backendURLs {
		m.metrics = append(m.metrics, strings.TrimRight(u, "/")+"/metrics")
	}
	return m
}

// Snapshot is the counters at one moment.
type Snapshot struct {
	// CPU is each tier's user plus system time, in clock ticks, by pid: a process that could not
	// be read (it has exited) is left out.
	CPU map[string]map[int]uint64
	// Counters are the backends' counters summed over them; CountersOK says every backend
	// answered and exposed both.
	StorageGets, DBQueries float64
	CountersOK             bool
}

// Snapshot reads the counters now. A backend that does not answer, or lacks a counter, leaves
// CountersOK false; the CPU times are read regardless.
func (m *Meter) Snapshot(ctx context.Context) Snapshot {
	s := Snapshot{CPU: make(map[string]map[int]uint64, len(m.tiers))}
	for tier, pids := range m.tiers {
		s.CPU[tier] = map[int]uint64{}
		for _, pid := range pids {
			b, err := os.ReadFile(filepath.Join(m.proc, strconv.Itoa(pid), "stat"))
			if err != nil {
				continue
			}
			if t, err := cpuload.ParsePidStat(b); err == nil {
				s.CPU[tier][pid] = t
			}
		}
	}
	s.CountersOK = len(m.metrics) > 0
	for _, u := range m.metrics {
		gets, queries, err := m.read(ctx, u)
		if err != nil {
			s.CountersOK = false
			continue
		}
		s.StorageGets += gets
		s.DBQueries += queries
	}
	return s
}

// read returns a backend's two counters.
func (m *Meter) read(ctx context.Context, url string) (gets, queries float64, err error) {
	ctx, cancel := context.WithTimeout(ctx, metricsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return ParseCounters(io.LimitReader(resp.Body, 8<<20))
}

// ParseCounters reads Prometheus's text format and returns the storage reads and the database
// queries, each summed over its labels. A missing counter is an error: the backend predates it,
// and a zero would read as "no reads".
func ParseCounters(r io.Reader) (gets, queries float64, err error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return 0, 0, fmt.Errorf("metrics: %w", err)
	}
	sum := func(name string) (float64, error) {
		f, ok := fams[name]
		if !ok {
			return 0, fmt.Errorf("metrics: no %s", name)
		}
		var v float64
		for _, m := range f.GetMetric() {
			v += counterValue(f.GetType(), m)
		}
		return v, nil
	}
	if gets, err = sum(MetricStorageGets); err != nil {
		return 0, 0, err
	}
	if queries, err = sum(MetricDBQueries); err != nil {
		return 0, 0, err
	}
	return gets, queries, nil
}

func counterValue(t dto.MetricType, m *dto.Metric) float64 {
	if t == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetUntyped().GetValue() // a counter exposed without a TYPE line
}

// Step is what a step cost, between two snapshots.
type Step struct {
	CPUNs map[string]int64 // by tier, in nanoseconds; tiers without a process read at both ends left out
	// StorageGets and DBQueries are nil when the counters were not read at both ends.
	StorageGets, DBQueries *int64
}

// Between returns the cost from a to b. A process counts only if read at both ends.
func Between(a, b Snapshot) Step {
	out := Step{CPUNs: map[string]int64{}}
	for tier, pids := range b.CPU {
		var ticks uint64
		seen := false
		for pid, t := range pids {
			if t0, ok := a.CPU[tier][pid]; ok && t >= t0 {
				ticks += t - t0
				seen = true
			}
		}
		if seen {
			out.CPUNs[tier] = int64(ticks) * int64(time.Second/userHZ)
		}
	}
	if a.CountersOK && b.CountersOK {
		g, q := int64(b.StorageGets-a.StorageGets), int64(b.DBQueries-a.DBQueries)
		out.StorageGets, out.DBQueries = &g, &q
	}
	return out
}

// Tiers returns the tiers measured, sorted, for tests and logs.
func (m *Meter) Tiers() []string {
	return slices.Sorted(maps.Keys(m.tiers))
}
