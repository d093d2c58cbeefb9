package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"imgcache/loadgen/backlog"
	"imgcache/loadgen/cost"
	"imgcache/loadgen/cpuload"
	"imgcache/loadgen/verify"
	"imgcache/memcache/wire"
	"imgcache/reports/results"
)

// Defaults of StepConfig.
const (
	DefaultTimeout    = 5 * time.Second
	DefaultMaxWorkers = 512
)

// StepConfig describes one constant-rate attack.
type StepConfig struct {
	Name       string        // attack name in vegeta's results
	Rate       float64       // requests a second
	Warmup     time.Duration // attacked at Rate but not counted
	Duration   time.Duration // measured
	Timeout    time.Duration // per request; 0 means DefaultTimeout
	MaxWorkers uint64        // vegeta workers (and so connections) at most; 0 means DefaultMaxWorkers
	// Control reads the memcache counters at the end of the warm-up and of the step; nil or
	// without a memcache URL, the step has no hit rate.
	Control *Control
	// VegetaFile, when set, receives the measured results in vegeta's gob encoding, the format
	// `vegeta report` and `vegeta plot` read, so runs of several load machines can be merged.
	VegetaFile string
	// Load, when set, measures the machine's CPU use over the measured window.
	Load LoadSampler
	// Stop, when closed, ends the attack early, not as a failure: Duration is then its bound. A run
	// whose end depends on events (the resizes done) rather than on a wall-clock window uses it.
	Stop <-chan struct{}
	// Verify, when set, checks every read's answer (the warm-up's too) against the uploads.
	Verify *verify.Verifier
	// Cost, when set, measures what the measured window cost, by tier.
	Cost *cost.Meter
}

// LoadSampler reads the CPU time counters of the machine and of loadgen's own processes;
// *cpuload.Sampler is the real one.
type LoadSampler interface {
	Snapshot() cpuload.Snapshot
}

// RunStep attacks with tr at cfg.Rate for the warm-up and the measured duration with a new
// vegeta attacker, and summarises the measured part.
func RunStep(ctx context.Context, tr vegeta.Targeter, cfg StepConfig) (results.Step, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxWorkers == 0 {
		cfg.MaxWorkers = DefaultMaxWorkers
	}
	freq := int(math.Round(cfg.Rate))
	if freq < 1 || cfg.Duration <= 0 || cfg.Warmup < 0 {
		return results.Step{}, fmt.Errorf("step at %g/s for %v after %v: %w", cfg.Rate, cfg.Duration, cfg.Warmup, ErrBadConfig)
	}

	// Our own transport, so its connections can be closed when the step ends instead of
	// lingering idle into the next step.
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: int(min(cfg.MaxWorkers, 10000)),
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport:     transport,
		Timeout:       cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	maxBody := int64(0) // reading 100 KB replies into memory would load the harness
	if cfg.Verify != nil {
		client.Transport = cfg.Verify.Transport(transport) // hashes each read's body as it arrives
		tr, maxBody = cfg.Verify.Targeter(tr), verify.MaxBody
	}
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.MaxWorkers(cfg.MaxWorkers),
		vegeta.Workers(min(cfg.MaxWorkers, vegeta.DefaultWorkers)),
		vegeta.MaxBody(maxBody),
	)
	defer atk.Stop()
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	if cfg.Stop != nil {
		finished := make(chan struct{})
		defer close(finished)
		go func() { // owned by this function: it returns when the attack does
			select {
			case <-cfg.Stop:
				atk.Stop()
			case <-finished:
			}
		}()
	}

	var enc vegeta.Encoder
	var out *bufio.Writer
	if cfg.VegetaFile != "" {
		f, err := os.Create(cfg.VegetaFile)
		if err != nil {
			return results.Step{}, fmt.Errorf("step at %d/s: %w", freq, err)
		}
		defer f.Close()
		out = bufio.NewWriterSize(f, 1<<16)
		enc = vegeta.NewEncoder(out)
	}

	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	before := make(chan statsResult, 1)
	go func() { // owned by this function, which always receives its one value
		t := time.NewTimer(cfg.Warmup)
		defer t.Stop()
		select {
		case <-t.C:
			r := readStats(ctx, cfg.Control)
			r.load = snapshot(cfg.Load)
			r.cost = costSnapshot(ctx, cfg.Cost)
			before <- r
		case <-ctx.Done():
			before <- statsResult{err: ctx.Err()}
		}
	}()

	bl := backlog.New(start, float64(freq))
	var all, reads, writes vegeta.Metrics
	step := results.Step{Offered: float64(freq), Errors: map[string]int{}, ErrorSamples: map[string]string{}}
	var encErr error
	for r := range atk.Attack(tr, vegeta.Rate{Freq: freq, Per: time.Second}, cfg.Warmup+cfg.Duration, cfg.Name) {
		if cfg.Verify != nil {
			cfg.Verify.Observe(r)
		}
		if r.Timestamp.Before(measureFrom) {
			continue
		}
		r.Body, r.Headers = nil, nil
		bl.Add(r.Seq, r.Timestamp, r.Latency)
		all.Add(r)
		if OpOf(r) == OpWrite {
			writes.Add(r)
		} else {
			reads.Add(r)
		}
		if r.Code < 200 || r.Code >= 400 {
			kind := ErrorKind(r)
			step.Errors[kind]++
			if _, ok := step.ErrorSamples[kind]; !ok {
				step.ErrorSamples[kind] = r.Error
			}
		}
		if enc != nil && encErr == nil {
			encErr = enc.Encode(r)
		}
	}
	loadAfter, costAfter := snapshot(cfg.Load), costSnapshot(ctx, cfg.Cost)
	if cfg.Verify != nil {
		step.Verification = cfg.Verify.EndStep()
	}
	b := <-before
	if err := ctx.Err(); err != nil {
		return results.Step{}, err
	}
	after := readStats(ctx, cfg.Control)
	if cfg.Cost != nil {
		c := cost.Between(b.cost, costAfter)
		step.CPUNs, step.StorageGets, step.DBQueries = c.CPUNs, c.StorageGets, c.DBQueries
	}
	if u := cpuload.Between(b.load, loadAfter); u.OK {
		step.Load = results.Load{OK: true, CPUs: u.CPUs, Busy: u.Busy, Own: u.Own, Outside: u.Outside}
	}

	all.Close()
	reads.Close()
	writes.Close()
	step.BacklogGrowth = bl.Growth()
	step.Sent = all.Rate
	step.Throughput = all.Throughput
	step.Duration = all.Duration
	step.All, step.Reads, step.Writes = latencyOf(&all), latencyOf(&reads), latencyOf(&writes)
	if b.err == nil && after.err == nil {
		step.CacheStats = true
		step.CacheGets = int64(after.st.Gets - b.st.Gets)
		step.CacheHits = int64(after.st.Hits - b.st.Hits)
		// Fills counts every fill call, refused ones too; the step's CacheFills are those stored.
		step.CacheFills = int64((after.st.Fills - after.st.RefusedFills) - (b.st.Fills - b.st.RefusedFills))
		step.CacheRefusedFills = int64(after.st.RefusedFills - b.st.RefusedFills)
		step.CacheBytes, step.CacheItems = after.st.Bytes, int64(after.st.Items)
	} else if err := errors.Join(b.err, after.err); !errors.Is(err, ErrNoStats) {
		return step, fmt.Errorf("step at %d/s: %w", freq, err)
	}
	if len(step.Errors) == 0 {
		step.Errors, step.ErrorSamples = nil, nil
	}
	if out != nil {
		if encErr == nil {
			encErr = out.Flush()
		}
		if encErr != nil {
			return step, fmt.Errorf("step at %d/s: vegeta results: %w", freq, encErr)
		}
	}
	return step, nil
}

type statsResult struct {
	st   wire.Stats
	err  error
	load cpuload.Snapshot
	cost cost.Snapshot
}

func costSnapshot(ctx context.Context, m *cost.Meter) cost.Snapshot {
	if m == nil {
		return cost.Snapshot{}
	}
	return m.Snapshot(ctx)
}

func snapshot(s LoadSampler) cpuload.Snapshot {
	if s == nil {
		return cpuload.Snapshot{}
	}
	return s.Snapshot()
}

func readStats(ctx context.Context, c *Control) statsResult {
	if c == nil {
		return statsResult{err: ErrNoStats}
	}
	st, err := c.Stats(ctx)
	return statsResult{st: st, err: err}
}

func latencyOf(m *vegeta.Metrics) results.Latency {
	if m.Requests == 0 {
		return results.Latency{}
	}
	return results.Latency{
		Requests:   m.Requests,
		Successes:  uint64(math.Round(m.Success * float64(m.Requests))),
		Throughput: m.Throughput,
		Mean:       m.Latencies.Mean,
		P50:        m.Latencies.P50,
		P90:        m.Latencies.P90,
		P99:        m.Latencies.P99,
		Max:        m.Latencies.Max,
	}
}

// ErrorKind names the kind of a failed result: "http <status>" for an answer, else the network
// failure ("timeout", "connection refused", "connection reset", "eof", "other").
func ErrorKind(r *vegeta.Result) string {
	if r.Code != 0 {
		return "http " + strconv.Itoa(int(r.Code))
	}
	e := strings.ToLower(r.Error)
	switch {
	case strings.Contains(e, "timeout") || strings.Contains(e, "deadline exceeded"):
		return "timeout"
	case strings.Contains(e, "connection refused"):
		return "connection refused"
	case strings.Contains(e, "connection reset") || strings.Contains(e, "broken pipe"):
		return "connection reset"
	case strings.Contains(e, "eof"):
		return "eof"
	case strings.Contains(e, "too many open files"):
		return "too many open files"
	}
	return "other"
}
