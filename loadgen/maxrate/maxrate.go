// Package maxrate measures the highest rate loadgen can offer, against a trivial in-process server,
// so that the harness is never what limits a measurement (loadgen maxrate).
package maxrate

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"imgcache/app/api"
	"imgcache/loadgen"
	"imgcache/loadgen/verify"
)

// Defaults of Config.
const (
	DefaultDuration = 2 * time.Second
	// DefaultWorkers caps vegeta's workers: a trivial server answers in well under a
	// millisecond, so a few dozen suffice, and the hundreds vegeta spawns at the first hiccup
	// cost more CPU in switching than they add.
	DefaultWorkers = 64
	// Goal is the rate the harness must be able to offer, so that it is never what
	// limits a measurement.
	Goal = 20000
)

// DefaultRates are the rates MaxRate tries.
var DefaultRates = []float64{10000, 20000, 40000, 60000, 80000}

// Config describes a measurement of the highest rate loadgen can offer.
type Config struct {
	Rates      []float64     // tried in order; nil means DefaultRates
	Duration   time.Duration // a step; 0 means DefaultDuration
	MaxWorkers uint64        // 0 means DefaultWorkers
	Progress   io.Writer     // a line a step; nil means none
	NoVerify   bool          // do not check the answers, to measure what checking costs
}

// Step is one attack of MaxRate.
type Step struct {
	Offered    float64       `json:"offered_rps"`
	Sent       float64       `json:"sent_rps"`
	Throughput float64       `json:"throughput_rps"`
	P99        time.Duration `json:"p99_ns"`
	Errors     int           `json:"errors"`
	Verified   int64         `json:"verified"`   // reads checked, the warm-up's too; 0 with NoVerify
	Unverified int64         `json:"unverified"` // of them, wrong or stale: a fault of loadgen's
}

// MaxRate attacks a trivial in-process HTTP server on 127.0.0.1 with the real read targeter, at
// rising rates, and returns each step and the highest rate sent. The server answers each read with
// its key's image (1 to 4 KB, in the API's JSON), which loadgen verifies unless told not to. It stops
// after the first step that sends less than 90% of what it offered. The server shares the CPUs
// with the harness, so the figure is a lower bound of what loadgen can offer a remote target.
func Run(ctx context.Context, cfg Config) ([]Step, float64, error) {
	if cfg.Rates == nil {
		cfg.Rates = DefaultRates
	}
	cfg.Duration = cmp.Or(cfg.Duration, DefaultDuration)
	cfg.MaxWorkers = cmp.Or(cfg.MaxWorkers, DefaultWorkers)

	ds, err := loadgen.NewDataset(loadgen.DatasetConfig{Images: 20, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000})
	if err != nil {
		return nil, 0, err
	}
	answers := map[string][]byte{} // by path: the answer the real backend gives
	for _, im := range ds.Images {
		b, err := json.Marshal(api.Image{Success: "true", Key: im.Key, Content: base64.StdEncoding.EncodeToString(im.Data)})
		if err != nil {
			return nil, 0, err
		}
		answers[api.KeyPath(im.Key)] = b
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) {
		c.SetContentType("application/json")
		c.SetBody(answers[string(c.Path())])
	}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		_ = srv.Shutdown()
		<-served
	}()
	w, err := loadgen.NewWorkload("http://"+ln.Addr().String(), ds, 1, false)
	if err != nil {
		return nil, 0, err
	}
	pop, err := loadgen.NewZipf(len(ds.Images), loadgen.DefaultZipfS, 1)
	if err != nil {
		return nil, 0, err
	}
	tr, err := loadgen.NewTargeter(w, loadgen.TargeterConfig{ReadFraction: 1, Reads: pop, Seed: 1})
	if err != nil {
		return nil, 0, err
	}
	var ver *verify.Verifier
	if !cfg.NoVerify {
		if ver, err = w.Verifier(); err != nil {
			return nil, 0, err
		}
	}
	var steps []Step
	var best float64
	for _, rate := range cfg.Rates {
		st, err := loadgen.RunStep(ctx, tr.Targeter(), loadgen.StepConfig{
			Name: fmt.Sprintf("maxrate-%g", rate), Rate: rate, Warmup: 200 * time.Millisecond,
			Duration: cfg.Duration, MaxWorkers: cfg.MaxWorkers, Verify: ver,
		})
		if err != nil {
			return steps, best, err
		}
		ms := Step{Offered: st.Offered, Sent: st.Sent, Throughput: st.Throughput, P99: st.All.P99,
			Errors: int(st.All.Requests - st.All.Successes), Verified: st.Verified, Unverified: st.Unverified()}
		steps = append(steps, ms)
		best = max(best, ms.Sent)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "maxrate: offered %6.0f/s  sent %8.1f/s  throughput %8.1f/s  p99 %6.1fms  errors %d  verified %d  unverified %d\n",
				ms.Offered, ms.Sent, ms.Throughput, float64(ms.P99)/float64(time.Millisecond), ms.Errors, ms.Verified, ms.Unverified)
		}
		if ms.Unverified > 0 {
			return steps, best, fmt.Errorf("maxrate at %g/s: %d of %d answers of the trivial server failed verification (%+v)", rate, ms.Unverified, ms.Verified, st.BadReads)
		}
		if ms.Sent < 0.9*ms.Offered {
			break
		}
	}
	return steps, best, nil
}
