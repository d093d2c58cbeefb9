package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Defaults of MaxRateConfig.
const (
	DefaultMaxRateDuration = 2 * time.Second
	// DefaultMaxRateWorkers caps vegeta's workers: a trivial server answers in well under a
	// millisecond, so a few dozen suffice, and the hundreds vegeta spawns at the first hiccup
	// cost more CPU in switching than they add.
	DefaultMaxRateWorkers = 64
	// MaxRateGoal is the rate the harness must be able to offer, so that it is never what
	// limits a measurement.
	MaxRateGoal = 20000
)

// DefaultMaxRates are the rates MaxRate tries.
var DefaultMaxRates = []float64{10000, 20000, 40000, 60000, 80000}

// MaxRateConfig describes a measurement of the highest rate loadgen can offer.
type MaxRateConfig struct {
	Rates      []float64     // tried in order; nil means DefaultMaxRates
	Duration   time.Duration // a step; 0 means DefaultMaxRateDuration
	MaxWorkers uint64        // 0 means DefaultMaxRateWorkers
	Progress   io.Writer     // a line a step; nil means none
}

// MaxRateStep is one attack of MaxRate.
type MaxRateStep struct {
	Offered    float64       `json:"offered_rps"`
	Sent       float64       `json:"sent_rps"`
	Throughput float64       `json:"throughput_rps"`
	P99        time.Duration `json:"p99_ns"`
	Errors     int           `json:"errors"`
}

// MaxRate attacks a trivial in-process HTTP server (200, empty body) on 127.0.0.1 with the real
// read targeter, at rising rates, and returns each step and the highest rate sent. It stops
// after the first step that sends less than 90% of what it offered. The server shares the CPUs
// with the harness, so the figure is a lower bound of what loadgen can offer a remote target.
func MaxRate(ctx context.Context, cfg MaxRateConfig) ([]MaxRateStep, float64, error) {
	if cfg.Rates == nil {
		cfg.Rates = DefaultMaxRates
	}
	setIf(&cfg.Duration, DefaultMaxRateDuration)
	setIf(&cfg.MaxWorkers, DefaultMaxRateWorkers)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) { c.SetStatusCode(fasthttp.StatusOK) }}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		_ = srv.Shutdown()
		<-served
	}()

	ds, err := NewDataset(DatasetConfig{Images: 20, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000})
	if err != nil {
		return nil, 0, err
	}
	w, err := NewWorkload("http://"+ln.Addr().String(), ds, 1, false)
	if err != nil {
		return nil, 0, err
	}
	pop, err := NewZipf(len(ds.Images), DefaultZipfS, 1)
	if err != nil {
		return nil, 0, err
	}
	tr, err := NewTargeter(w, TargeterConfig{ReadFraction: 1, Reads: pop, Seed: 1})
	if err != nil {
		return nil, 0, err
	}
	var steps []MaxRateStep
	var best float64
	for _, rate := range cfg.Rates {
		st, err := RunStep(ctx, tr.Targeter(), StepConfig{
			Name: fmt.Sprintf("maxrate-%g", rate), Rate: rate, Warmup: 200 * time.Millisecond,
			Duration: cfg.Duration, MaxWorkers: cfg.MaxWorkers,
		})
		if err != nil {
			return steps, best, err
		}
		ms := MaxRateStep{Offered: st.Offered, Sent: st.Sent, Throughput: st.Throughput, P99: st.All.P99,
			Errors: int(st.All.Requests - st.All.Successes)}
		steps = append(steps, ms)
		best = max(best, ms.Sent)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "maxrate: offered %6.0f/s  sent %8.1f/s  throughput %8.1f/s  p99 %8s  errors %d\n",
				ms.Offered, ms.Sent, ms.Throughput, fmtMillis(ms.P99), ms.Errors)
		}
		if ms.Sent < 0.9*ms.Offered {
			break
		}
	}
	return steps, best, nil
}
