// Package resize measures what resizing the memcache pool costs: the hit rate around each resize of a
// fixed-rate attack, the dip and the time to recover (loadgen resize).
package resize

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"imgcache/loadgen"
	"io"
	"log/slog"
	"math"
	"net/http"
	"time"

	"imgcache/app/api"
	"imgcache/loadgen/verify"
	"imgcache/reports/results"
)

// Defaults of Config: a pool of two active nodes and a standby one, a third node activated
// mid-run and one stood by later, at a rate well under what one machine saturates at.
const (
	DefaultNodes    = 2
	DefaultStandby  = 1
	DefaultRate     = 300
	DefaultDuration = 40 * time.Second
	// DefaultWindow is how long before a resize the hit rate is averaged over.
	DefaultWindow = 10 * time.Second
	// DefaultTolerance is how close, in hit rate (0.05 is 5 points), the rate must come back
	// to its mean before the resize to count as recovered.
	DefaultTolerance = 0.05
	// DefaultSample is the length of a window of the per-second hit rate.
	DefaultSample = time.Second
)

// DefaultAt are the times of the resizes: a node activated at 15 s, one stood by at 30 s.
func DefaultAt() []time.Duration { return []time.Duration{15 * time.Second, 30 * time.Second} }

// DefaultMix is the resize run's mix: read-heavy, where a cache matters most.
func DefaultMix() results.Mix { return results.Mix{Reads: 80, Writes: 20} }

// Resize actions: the first resize activates a standby node, the next stands an active one by,
// and so on in turn, so a run of two resizes goes from N to N+1 nodes and back.
const (
	ActionActivate = "activate"
	ActionStandby  = "standby"
)

// Config describes a resize run. The zero value of each field means its default.
type Config struct {
	// BackendURLs are the backends the attack spreads over; the cache and the pool are changed
	// through the first. MemcacheURLs are every node of the pool, standby ones too: their
	// statistics are summed. MemcacheSecret is sent with their /stats.
	BackendURLs    []string
	MemcacheURLs   []string
	MemcacheSecret string

	Dataset    loadgen.DatasetConfig
	Mix        results.Mix // zero means DefaultMix
	Policy     string      // "" means LRU
	CapacityMB int         // of each node; 0 means CacheFraction of the data set as cached
	// CacheFraction is the share of the data set each node holds; 0 means loadgen.DefaultCacheFraction.
	CacheFraction float64

	Rate       float64         // offered requests a second; 0 means DefaultRate
	Duration   time.Duration   // of the attack, longer when resizes come late; 0 means DefaultDuration
	At         []time.Duration // times of the resizes from the start of the attack; nil means DefaultAt
	Window     time.Duration   // 0 means DefaultWindow
	Tolerance  float64         // 0 means DefaultTolerance
	Sample     time.Duration   // 0 means DefaultSample
	Timeout    time.Duration   // of a request; 0 means loadgen.DefaultTimeout
	MaxWorkers uint64          // 0 means loadgen.DefaultMaxWorkers

	Logger   *slog.Logger // nil means slog.Default()
	Progress io.Writer    // a line a sample; nil means none
	NoVerify bool         // do not check the reads' answers against the uploads
}

func (c Config) withDefaults() Config {
	c.Dataset = c.Dataset.WithDefaults()
	if c.Mix == (results.Mix{}) {
		c.Mix = DefaultMix()
	}
	c.Policy = cmp.Or(c.Policy, results.PolicyLRU)
	c.CacheFraction = cmp.Or(c.CacheFraction, loadgen.DefaultCacheFraction)
	c.Rate = cmp.Or(c.Rate, DefaultRate)
	c.Duration = cmp.Or(c.Duration, DefaultDuration)
	if c.At == nil {
		c.At = DefaultAt()
	}
	c.Window = cmp.Or(c.Window, DefaultWindow)
	c.Tolerance = cmp.Or(c.Tolerance, DefaultTolerance)
	c.Sample = cmp.Or(c.Sample, DefaultSample)
	c.Timeout = cmp.Or(c.Timeout, loadgen.DefaultTimeout)
	c.MaxWorkers = cmp.Or(c.MaxWorkers, loadgen.DefaultMaxWorkers)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate checks the settings but the URLs, with the defaults applied, so that a command can refuse
// them before it starts any service.
func (c Config) Validate() error { return c.withDefaults().validate(false) }

func (c Config) validate(urls bool) error {
	var errs []error
	if urls && (len(c.BackendURLs) == 0 || len(c.MemcacheURLs) == 0) {
		errs = append(errs, errors.New("a resize run needs the backends and every memcache node"))
	}
	if c.Rate < 1 || c.Duration <= 0 || c.Sample <= 0 || c.Window < c.Sample || c.Tolerance <= 0 {
		errs = append(errs, fmt.Errorf("rate %g for %v, samples of %v, window %v, tolerance %g", c.Rate, c.Duration, c.Sample, c.Window, c.Tolerance))
	}
	if c.CapacityMB < 0 || c.CacheFraction <= 0 {
		errs = append(errs, fmt.Errorf("capacity %d MB, fraction %g", c.CapacityMB, c.CacheFraction))
	}
	if p, err := loadgen.NormalizePolicy(c.Policy); err != nil || p == results.PolicyOff {
		errs = append(errs, fmt.Errorf("policy %q: a resize run needs a cache", c.Policy))
	}
	for i, at := range c.At {
		if at <= 0 || at >= c.Duration || (i > 0 && at <= c.At[i-1]) {
			errs = append(errs, fmt.Errorf("resize times %v: want rising times within the %v run", c.At, c.Duration))
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", loadgen.ErrBadConfig, err)
	}
	return nil
}

// Window is one sampling window of the pool's summed statistics: its lookups and hits.
type Window struct {
	Start  time.Duration `json:"start_ns"` // from the start of the attack
	End    time.Duration `json:"end_ns"`
	Gets   uint64        `json:"gets"`
	Hits   uint64        `json:"hits"`
	Active int           `json:"active"` // active nodes during the window (resizes fall between windows)
}

// HitRate returns the window's hits over lookups, and false when it had no lookup.
func (w Window) HitRate() (float64, bool) {
	if w.Gets == 0 {
		return 0, false
	}
	return float64(w.Hits) / float64(w.Gets), true
}

// Event is one resize as performed.
type Event struct {
	At     time.Duration `json:"at_ns"` // when it was performed, from the start of the attack
	Action string        `json:"action"`
	Node   int64         `json:"node,omitempty"`
	From   int           `json:"from"` // active nodes before
	To     int           `json:"to"`
	Error  string        `json:"error,omitempty"`
}

// Effect is what one resize cost: the hit rate's mean before it, its lowest window after it
// (up to the next resize), the dip between them, and how long until it came back within the
// tolerance of the mean.
type Effect struct {
	Event    Event         `json:"event"`
	Before   float64       `json:"before"`         // mean of the window hit rates in the Window before
	BeforeN  int           `json:"before_windows"` // windows averaged; 0: no mean (and no dip)
	Lowest   float64       `json:"lowest"`
	LowestAt time.Duration `json:"lowest_at_ns"` // end of the lowest window
	Dip      float64       `json:"dip_points"`   // (Before - Lowest) × 100, at least 0
	// Recovered is whether the rate came back within the tolerance before the next resize or the
	// end of the run; Recovery is then the time from the resize to the end of that window (0: it
	// never left the tolerance).
	Recovered bool          `json:"recovered"`
	Recovery  time.Duration `json:"recovery_ns"`
	// Settled is the mean over the windows that ended within the Window before the next resize
	// or the end of the run: the level the new pool size settles at. A shrink leaves the rate at
	// a lower level for good, so its Recovery to the old mean may never come; Settled says where
	// it went.
	Settled  float64 `json:"settled"`
	SettledN int     `json:"settled_windows"` // windows averaged; 0: no level
}

// Analyze computes each resize's effect from the windows, in order of time: the before-mean
// over the windows that ended within window before the resize; the lowest window that ends after
// it and no later than the next resize (a window astride a resize counts as after it); and the
// first window from the lowest on whose rate is within tolerance of the mean; and the mean over the
// last window's worth of windows after it, up to the next resize. Windows without lookups are left
// out.
func Analyze(windows []Window, events []Event, window time.Duration, tolerance float64) []Effect {
	var out []Effect
	for i, ev := range events {
		next := time.Duration(math.MaxInt64)
		if i+1 < len(events) {
			next = events[i+1].At
		}
		e := Effect{Event: ev, Lowest: math.Inf(1)}
		var sum float64
		for _, w := range windows {
			if r, ok := w.HitRate(); ok && w.End <= ev.At && w.End > ev.At-window {
				sum += r
				e.BeforeN++
			}
		}
		if e.BeforeN > 0 {
			e.Before = sum / float64(e.BeforeN)
		}
		var after []Window
		for _, w := range windows {
			if _, ok := w.HitRate(); ok && w.End > ev.At && w.End <= next {
				after = append(after, w)
			}
		}
		if len(after) > 0 {
			end := after[len(after)-1].End
			var sum float64
			for _, w := range after {
				if w.End > end-window {
					r, _ := w.HitRate()
					sum += r
					e.SettledN++
				}
			}
			e.Settled = sum / float64(e.SettledN)
		}
		low := -1
		for j, w := range after {
			if r, _ := w.HitRate(); r < e.Lowest {
				e.Lowest, e.LowestAt, low = r, w.End, j
			}
		}
		if low < 0 || e.BeforeN == 0 {
			e.Lowest, e.LowestAt = 0, 0
			out = append(out, e)
			continue
		}
		e.Dip = max(0, 100*(e.Before-e.Lowest))
		const eps = 1e-9 // a rate exactly at the bound counts as within it
		if e.Lowest >= e.Before-tolerance-eps {
			e.Recovered = true
		} else {
			for _, w := range after[low+1:] {
				if r, _ := w.HitRate(); r >= e.Before-tolerance-eps {
					e.Recovered, e.Recovery = true, w.End-ev.At
					break
				}
			}
		}
		out = append(out, e)
	}
	return out
}

// Result is what a resize run measured.
type Result struct {
	Started    time.Time           `json:"started"`
	Mix        results.Mix         `json:"mix"`
	Policy     string              `json:"policy"`
	CapacityMB int                 `json:"capacity_mb"` // of each node
	Rate       float64             `json:"rate"`
	Duration   time.Duration       `json:"duration_ns"` // as run: at least as planned, longer when resizes came late
	Window     time.Duration       `json:"window_ns"`
	Tolerance  float64             `json:"tolerance"`
	Backends   int                 `json:"backends"`
	Nodes      int                 `json:"nodes"` // registered in the pool at the start, active and standby
	Dataset    results.DatasetInfo `json:"dataset"`
	Windows    []Window            `json:"windows"`
	Events     []Event             `json:"events"`
	Effects    []Effect            `json:"effects"`
	// Step is the attack as a whole: requests, throughput, latencies, errors by kind.
	Step  results.Step `json:"step"`
	Error string       `json:"error,omitempty"`
}

// Failed returns the number of requests that failed: network errors and answers outside 2xx.
func (r *Result) Failed() uint64 {
	return r.Step.All.Requests - r.Step.All.Successes
}

// Resize runs one constant-rate attack on the pool and resizes it at the set times through the
// first backend's pool form, sampling the pool's summed statistics every Sample, then computes each
// resize's effect. It returns what was measured even when it fails, together with the error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	res := &Result{Started: time.Now().UTC(), Mix: cfg.Mix, Rate: cfg.Rate, Duration: cfg.Duration,
		Window: cfg.Window, Tolerance: cfg.Tolerance, Backends: len(cfg.BackendURLs)}
	fail := func(err error) (*Result, error) {
		res.Error = err.Error()
		return res, err
	}
	if err := cfg.validate(true); err != nil {
		return fail(err)
	}
	res.Policy, _ = loadgen.NormalizePolicy(cfg.Policy)
	ds, err := loadgen.NewDataset(cfg.Dataset)
	if err != nil {
		return fail(err)
	}
	res.Dataset = ds.Info()
	res.CapacityMB = cfg.CapacityMB
	if res.CapacityMB == 0 {
		res.CapacityMB = loadgen.CapacityFor(res.Dataset, cfg.CacheFraction)
	}
	w, err := loadgen.NewWorkloadOn(cfg.BackendURLs, ds, 0, false)
	if err != nil {
		return fail(err)
	}
	pop, err := loadgen.NewPopularity(loadgen.PopularityZipf, len(ds.Images), loadgen.DefaultZipfS, cfg.Dataset.Seed)
	if err != nil {
		return fail(err)
	}
	ctl := &loadgen.Control{BackendURL: cfg.BackendURLs[0], MemcacheURLs: cfg.MemcacheURLs, Secret: cfg.MemcacheSecret,
		// The pool form's posts wait as long as any request may: a slow answer is not a failed resize.
		HTTP: &http.Client{Timeout: max(30*time.Second, cfg.Timeout),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if err := ctl.SetCache(ctx, res.CapacityMB, res.Policy); err != nil {
		return fail(err)
	}
	if err := ctl.UploadAll(ctx, w, loadgen.DefaultUploadConcurrency); err != nil {
		return fail(err)
	}
	if err := ctl.ClearCache(ctx); err != nil {
		return fail(err)
	}
	pv, err := ctl.Pool(ctx)
	if err != nil {
		return fail(err)
	}
	res.Nodes = len(pv.Nodes)
	tr, err := loadgen.NewTargeter(w, loadgen.TargeterConfig{ReadFraction: cfg.Mix.ReadFraction(), Reads: pop, Seed: cfg.Dataset.Seed})
	if err != nil {
		return fail(err)
	}

	var ver *verify.Verifier
	if !cfg.NoVerify {
		if ver, err = w.Verifier(); err != nil {
			return fail(err)
		}
	}

	type stepResult struct {
		st  results.Step
		err error
	}
	attackCtx, stopAttack := context.WithCancel(ctx)
	defer stopAttack()
	done := make(chan stepResult, 1)
	loopDone := make(chan struct{})
	start := time.Now()
	go func() { // owned here: every return below waits for it
		// The loop ends the attack; the step's duration only bounds it.
		st, err := loadgen.RunStep(attackCtx, tr.Targeter(), loadgen.StepConfig{Name: "resize", Rate: cfg.Rate,
			Duration: cfg.Duration + cfg.lateBound() + cfg.Sample, Timeout: cfg.Timeout, MaxWorkers: cfg.MaxWorkers, Stop: loopDone,
			Verify: ver})
		done <- stepResult{st, err}
	}()
	loopErr := resizeLoop(ctx, cfg, ctl, start, res)
	close(loopDone)
	res.Duration = time.Since(start)
	if loopErr != nil {
		stopAttack()
	}
	// The attack ends with the loop, its last requests within the timeout of a request.
	grace := time.NewTimer(cfg.Timeout + 10*time.Second)
	defer grace.Stop()
	var sr stepResult
	select {
	case sr = <-done:
	case <-grace.C:
		stopAttack()
		sr = <-done
	}
	res.Step = sr.st
	res.Effects = Analyze(res.Windows, res.Events, cfg.Window, cfg.Tolerance)
	if err := errors.Join(loopErr, sr.err); err != nil {
		return fail(err)
	}
	var errs []error
	for _, ev := range res.Events {
		if ev.Error != "" {
			errs = append(errs, fmt.Errorf("resize at %v: %s", ev.At, ev.Error))
		}
	}
	if v := res.Step.Verification; v.Unverified() > 0 {
		errs = append(errs, fmt.Errorf("%d wrong and %d stale reads of %d verified", v.Wrong, v.Stale, v.Verified))
	}
	if n := res.Failed(); n > 0 {
		errs = append(errs, fmt.Errorf("%d of %d requests failed (%v): a resize must fail none", n, res.Step.All.Requests, res.Step.Errors))
	}
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	return res, nil
}

// lateBound is how much longer than planned a resize run may last when its resizes come late (the
// machine is busy): the attack goes on until every resize has been done and sampled after, each
// resize's calls taking up to a request's timeout.
func (c Config) lateBound() time.Duration {
	return max(c.Duration, 30*time.Second) + time.Duration(len(c.At))*c.Timeout
}

// resizeLoop samples the pool's statistics every cfg.Sample and performs each resize right after
// the first sample at or past its time, so that every window lies wholly before or after a resize.
// It returns after the first sample at or past cfg.Duration that follows the last resize: the run's
// end waits for the events, not the events for a wall-clock window, so a late loop (a busy machine)
// gives longer windows, never a skipped resize. It gives up lateBound past cfg.Duration.
func resizeLoop(ctx context.Context, cfg Config, ctl *loadgen.Control, start time.Time, res *Result) error {
	read := func() (uint64, uint64, error) {
		// A late sample only makes a longer window: it waits as long as a request may.
		sctx, cancel := context.WithTimeout(ctx, max(cfg.Sample, cfg.Timeout))
		defer cancel()
		st, err := ctl.Stats(sctx)
		return st.Gets, st.Hits, err
	}
	gets, hits, err := read()
	if err != nil {
		return err
	}
	pv, err := ctl.Pool(ctx)
	if err != nil {
		return err
	}
	active, last := pv.Routed, time.Duration(0)
	tick := time.NewTicker(cfg.Sample)
	defer tick.Stop()
	for n := 0; ; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		g, h, err := read()
		if err != nil {
			return fmt.Errorf("sample at %v: %w", time.Since(start).Round(time.Millisecond), err)
		}
		now := time.Since(start)
		w := Window{Start: last, End: now, Gets: g - gets, Hits: h - hits, Active: active}
		res.Windows = append(res.Windows, w)
		gets, hits, last = g, h, now
		if cfg.Progress != nil {
			rate := "-"
			if r, ok := w.HitRate(); ok {
				rate = fmt.Sprintf("%5.1f%%", 100*r)
			}
			fmt.Fprintf(cfg.Progress, "[%5.1fs] lookups %5d  hit rate %s  active nodes %d\n", now.Seconds(), w.Gets, rate, active)
		}
		switch {
		case n < len(cfg.At) && now >= cfg.Duration+cfg.lateBound():
			return fmt.Errorf("%d of %d resizes not done %v after the run's planned end", len(cfg.At)-n, len(cfg.At), cfg.lateBound())
		case n < len(cfg.At) && now >= cfg.At[n]-cfg.Sample/2:
			ev := resizeOnce(ctx, ctl, n, time.Since(start))
			res.Events = append(res.Events, ev)
			cfg.Logger.Info("pool resized", "at", ev.At.Round(time.Millisecond), "action", ev.Action, "node", ev.Node, "from", ev.From, "to", ev.To, "err", ev.Error)
			if ev.Error == "" {
				active = ev.To
			}
			n++
		case n == len(cfg.At) && now >= cfg.Duration-cfg.Sample/2:
			return nil
		}
	}
}

// resizeOnce performs the n-th resize: even ones activate the live standby node of lowest id, odd
// ones stand by the active node of highest id (the one most likely just activated).
func resizeOnce(ctx context.Context, ctl *loadgen.Control, n int, at time.Duration) Event {
	ev := Event{At: at, Action: ActionActivate}
	if n%2 == 1 {
		ev.Action = ActionStandby
	}
	pv, err := ctl.Pool(ctx)
	if err != nil {
		ev.Error = err.Error()
		return ev
	}
	ev.From = pv.Active()
	for _, nd := range pv.Nodes {
		switch {
		case !nd.Alive:
		case ev.Action == ActionActivate && nd.State == api.NodeStandby && ev.Node == 0:
			ev.Node = nd.ID
		case ev.Action == ActionStandby && nd.State == api.NodeActive:
			ev.Node = nd.ID // the last one listed: the table is in order of id
		}
	}
	if ev.Node == 0 {
		ev.Error = fmt.Sprintf("no node to %s among %+v", ev.Action, pv.Nodes)
		return ev
	}
	state := map[string]string{ActionActivate: api.NodeActive, ActionStandby: api.NodeStandby}[ev.Action]
	if err := ctl.SetNodeState(ctx, ev.Node, state); err != nil {
		ev.Error = err.Error()
		return ev
	}
	ev.To = ev.From + map[string]int{ActionActivate: 1, ActionStandby: -1}[ev.Action]
	return ev
}
