package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"imgcache/loadgen/simulate"
	"imgcache/memcache/cache"
)

// simulateCmd replays a trace offline through the memcache's store: loadgen simulate [flags] FILE.
func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen simulate [flags] TRACE[.zst]\n\nReplays a cache trace through the memcache's store and Belady's MIN; starts no services.")
		fs.PrintDefaults()
	}
	format := fs.String("format", "", "trace format: oracleGeneral, twitter or csv (key[,size]); default guessed from the name (*.oracleGeneral*)")
	unit := fs.Bool("unit-size", false, "count every object as size 1: sizes are object counts")
	sizes := fs.String("sizes", simulate.DefaultSizes, "cache sizes, comma-separated: objects with -unit-size, else bytes (KB, MB, GB suffixes, 1024-based); below 1, a fraction of the working set")
	policies := fs.String("policies", "LRU,FIFO,Random,SIEVE,S3-FIFO,MIN", "policies, comma-separated: LRU, FIFO, Random, SIEVE, S3-FIFO, MIN")
	sample := fs.Float64("sample", 1, "SHARDS spatial sampling: replay the requests of this share of the objects, in a cache scaled alike")
	asJSON := fs.Bool("json", false, "write the results as JSON")
	png := fs.String("png", "", "draw the miss-ratio curves to this PNG file")
	target := fs.Float64("target", 0, "also find the smallest size reaching this hit rate, per policy (0 < rate < 1)")
	seed := fs.Uint64("seed", 1, "seed of Random's choices")
	workers := fs.Int("workers", 0, "simulations at once (0: one per CPU)")
	var s3 cache.S3FIFOConfig
	fs.Float64Var(&s3.SmallShare, "s3fifo-small", cache.DefaultS3SmallShare, "S3-FIFO: the small queue's share of the cache")
	fs.Float64Var(&s3.GhostShare, "s3fifo-ghost", cache.DefaultS3GhostShare, "S3-FIFO: the ghost queue's bound, a share of the cache")
	fs.IntVar(&s3.Threshold, "s3fifo-threshold", cache.DefaultS3Threshold, "S3-FIFO: uses in the small queue that move an object to the main queue (2 as libCacheSim, 1 as the paper)")
	timing := fs.Bool("time", false, "report the replay time on stderr, after the trace is read")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	file := fs.Arg(0)
	if *format == "" {
		if *format = simulate.FormatOf(file); *format == "" {
			fmt.Fprintln(stderr, "loadgen simulate: give -format (oracleGeneral, twitter or csv)")
			return errUsage
		}
	}
	if *target < 0 || *target >= 1 {
		fmt.Fprintf(stderr, "loadgen simulate: -target %g, want a hit rate between 0 and 1\n", *target)
		return errUsage
	}
	cfg := simulate.Config{UnitSize: *unit, Seed: *seed, Workers: *workers, S3FIFO: s3}
	var err error
	if cfg.Policies, err = simulate.ParsePolicies(*policies); err != nil {
		return usageErr(stderr, err)
	}
	if cfg.Sizes, err = simulate.ParseSizes(*sizes, *unit); err != nil {
		return usageErr(stderr, err)
	}
	tr, err := simulate.Open(file, *format, *sample)
	if err != nil {
		if errors.Is(err, simulate.ErrBadConfig) {
			return usageErr(stderr, err)
		}
		return err
	}
	sim, err := simulate.New(tr, cfg)
	if err != nil {
		return usageErr(stderr, err)
	}
	start := time.Now()
	rep, err := sim.Run(ctx)
	if err != nil {
		return err
	}
	if *timing {
		el := time.Since(start)
		n := float64(len(rep.Results)) * float64(rep.Requests)
		fmt.Fprintf(stderr, "replayed %d simulations of %d requests in %v: %.3g requests/s\n", len(rep.Results), rep.Requests, el.Round(time.Millisecond), n/el.Seconds())
	}
	if *asJSON {
		err = simulate.WriteJSON(stdout, rep)
	} else {
		err = simulate.WriteTable(stdout, rep, *unit)
	}
	if err != nil {
		return err
	}
	if *png != "" {
		if err := simulate.WritePNG(*png, rep, *unit); err != nil {
			return fmt.Errorf("draw %s: %w", *png, err)
		}
	}
	if *target > 0 {
		ts, err := sim.FindTargets(ctx, *target)
		if err != nil {
			return err
		}
		w := stdout
		if *asJSON {
			w = stderr // keep stdout one JSON object
		}
		return simulate.WriteTargets(w, *target, ts, *unit)
	}
	return nil
}

func usageErr(stderr io.Writer, err error) error {
	fmt.Fprintf(stderr, "loadgen simulate: %v\n", err)
	return errUsage
}
