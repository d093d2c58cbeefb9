package loadgen

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"imgcache/loadgen/mrc"
	"imgcache/loadgen/verify"
	"imgcache/reports/interval"
	"imgcache/reports/results"
)

type runner struct {
	cfg       Config
	ctl       *Control
	w         *Workload
	pop       *Popularity
	rates     []float64
	prog      *progress
	traces    map[results.Mix][][]mrc.Request
	truncated bool
	sustained map[string][]float64 // each cell's sustained rates so far, by mix and policy
}

func (r *runner) series(ctx context.Context, s *results.Series) error {
	policy := s.Policy
	if policy == results.PolicyOff {
		policy = results.PolicyLRU
	}
	if err := r.ctl.SetCache(ctx, s.CapacityMB, policy); err != nil {
		return err
	}
	if len(r.ctl.MemcacheURLs) > 0 {
		st, err := r.ctl.Stats(ctx)
		if err != nil {
			return err
		}
		if st.CapacityMB != int64(s.CapacityMB) || (s.CapacityMB > 0 && !policyMatches(st.Policy, policy)) {
			return fmt.Errorf("cache set to %d MB %s, but memcache reports %d MB %q: %w",
				s.CapacityMB, policy, st.CapacityMB, st.Policy, ErrService)
		}
	}
	t0 := time.Now()
	if err := r.ctl.UploadAll(ctx, r.w, r.cfg.UploadConcurrency); err != nil {
		return err
	}
	s.Upload = time.Since(t0)
	if err := r.ctl.ClearCache(ctx); err != nil {
		return err
	}
	r.prog.seriesStart(*s)
	// The same seed for every policy of a mix and repeat: each sees the same sequence of keys.
	tr, err := NewTargeter(r.w, TargeterConfig{
		ReadFraction: s.Mix.ReadFraction(), Reads: r.pop, WriteKeys: r.cfg.WriteKeys,
		Replay: r.cfg.Trace, Seed: s.Seed, Record: max(r.cfg.TraceRecord, 0),
	})
	if err != nil {
		return err
	}
	defer func() {
		if reqs, cut := tr.Trace(); len(reqs) > 0 {
			r.traces[s.Mix] = append(r.traces[s.Mix], reqs)
			r.truncated = r.truncated || cut
		}
	}()
	var ver *verify.Verifier // one a series: the keys' versions carry from step to step
	if !r.cfg.NoVerify {
		if ver, err = r.w.Verifier(); err != nil {
			return err
		}
	}
	step := func(rate float64, phase string) (results.Step, error) {
		name := fmt.Sprintf("%d-%d-%s-r%d-%g", s.Mix.Reads, s.Mix.Writes, strings.ToLower(s.Policy), s.Repeat+1, rate)
		if phase == results.PhaseConfirm {
			name += "-confirm"
		}
		sc := StepConfig{
			Name: name, Rate: rate, Warmup: r.cfg.Warmup, Duration: stepDuration(r.cfg.Duration, phase),
			Timeout: r.cfg.Timeout, MaxWorkers: r.cfg.MaxWorkers, Control: r.ctl, Load: r.cfg.Load, Cost: r.cfg.Cost,
			Verify: ver,
		}
		if r.cfg.VegetaDir != "" {
			sc.VegetaFile = filepath.Join(r.cfg.VegetaDir, name+".bin")
		}
		t := time.Now()
		st, err := RunStep(ctx, tr.Targeter(), sc)
		if err == nil && st.Load.OK && st.Load.Outside > r.cfg.HeavyLoad { // busy: try once more
			// The discarded try's reads were answered all the same: a wrong or stale one among them
			// is a fault of the system whatever the machine's load, so its verification counts.
			first := st.Verification
			st, err = RunStep(ctx, tr.Targeter(), sc)
			st.Retried = true
			st.Verification.Add(first)
		}
		if err != nil {
			return st, err
		}
		st.Phase = phase
		if sc.VegetaFile != "" {
			st.VegetaFile = filepath.Join(filepath.Base(r.cfg.VegetaDir), name+".bin")
		}
		st.Load.Heavy = st.Load.OK && st.Load.Outside > r.cfg.HeavyLoad
		st.Reasons = r.cfg.Limits.Check(st)
		st.Saturated = len(st.Reasons) > 0
		s.Steps = append(s.Steps, st)
		r.prog.step(*s, st, time.Since(t))
		return st, nil
	}
	key := s.Mix.String() + " " + s.Policy
	rates := r.rates
	if prev := r.sustained[key]; len(prev) > 0 {
		// A later run of the cell starts at the highest rate of the sweep that the previous run
		// sustained, skipping the rates below: the runs still share the sweep's rates, which the
		// latency graphs and the comparison at a common rate need.
		from := 0
		for i, v := range r.rates {
			if v <= prev[len(prev)-1] {
				from = i
			}
		}
		rates = r.rates[from:]
	}
	for _, rate := range rates {
		st, err := step(rate, results.PhaseSweep)
		if err != nil {
			return err
		}
		if st.Saturated {
			break
		}
	}
	for range max(r.cfg.SearchSteps, 0) {
		found := s.Search()
		rate, ok := NextProbe(found.Lo, found.Hi, r.cfg.Resolution)
		if !found.OK && found.Hi > 1 {
			// The first rate already saturated (a slow target, or a busy machine): step down
			// the sweep's way until a rate is served, then bisect.
			rate, ok = max(1, math.Round(found.Hi/r.cfg.RateFactor)), true
		}
		if !ok {
			break
		}
		if _, err := step(rate, results.PhaseSearch); err != nil {
			return err
		}
	}
	if found := s.Search(); found.OK {
		r.sustained[key] = append(r.sustained[key], found.Lo)
		if !r.cfg.Quick && s.Repeat == r.cfg.Repeat-1 {
			if _, err := step(median(r.sustained[key]), results.PhaseConfirm); err != nil {
				return err
			}
		}
	}
	r.prog.seriesEnd(*s)
	return nil
}

// stepDuration is the measured time of a step of phase: a confirmation's is three times as long.
func stepDuration(d time.Duration, phase string) time.Duration {
	if phase == results.PhaseConfirm {
		return 3 * d
	}
	return d
}

// median returns the median of xs (rounded to a whole rate), which must not be empty.
func median(xs []float64) float64 { return math.Round(interval.Of(xs).Center) }

// policyMatches reports whether the memcache's policy name is the one asked for.
func policyMatches(reported, asked string) bool {
	p, err := NormalizePolicy(reported)
	return err == nil && p == asked
}

// StoredSize returns what the cache counts for one image: its base64 value plus its key.
func StoredSize(key string, n int) int { return base64.StdEncoding.EncodedLen(n) + len(key) }
