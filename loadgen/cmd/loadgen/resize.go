package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"imgcache/loadgen"
	"imgcache/loadgen/resize"
	"imgcache/memcache/cmd/cli"
	"imgcache/reports/results"
)

// resizeCmd measures what a pool resize costs: it starts the services with a pool of active and
// standby nodes, attacks at a fixed rate, resizes the pool at the set times, and writes the hit
// rate per second and each resize's dip and recovery.
func resizeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen resize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen resize [flags]\n\nStarts the services with -nodes active and -standby standby memcache nodes, attacks at -rate for\n-duration, activates a standby node at the first -at time, stands one by at the next, and so on in\nturn, and writes the hit rate of every second and each resize's dip and recovery (resize.md, resize.json).")
		fs.PrintDefaults()
	}
	var (
		cfg      resize.Config
		svc      loadgen.ServicesConfig
		mix      = fs.String("mix", resize.DefaultMix().String(), "read:write mix")
		at       = fs.String("at", joinDurations(resize.DefaultAt()), "times of the resizes from the start of the attack, comma-separated; they activate a standby node and stand one by in turn")
		points   = fs.Float64("tolerance", 100*resize.DefaultTolerance, "recovered once the hit rate is back within this many points of its mean before the resize")
		out      = fs.String("out", env("LOADGEN_RESIZE_OUT", "reports/resize"), "folder for resize.md and resize.json (env LOADGEN_RESIZE_OUT)")
		logLevel = fs.String("log-level", env("LOADGEN_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	)
	fs.StringVar(&svc.BackendBin, "backend-bin", loadgen.DefaultBackendBin, "backend binary to start")
	fs.StringVar(&svc.MemcacheBin, "memcache-bin", loadgen.DefaultMemcacheBin, "memcache binary to start")
	fs.StringVar(&svc.LogLevel, "service-log-level", loadgen.DefaultServiceLogLevel, "log level of the started services")
	fs.BoolVar(&svc.Keep, "keep", false, "keep the started services' temporary folder (database, images, logs)")
	addServiceFlags(fs, &svc)
	fs.IntVar(&svc.Standby, "standby", resize.DefaultStandby, "standby memcache nodes to start beside the -nodes active ones")
	fs.StringVar(&cfg.Policy, "policy", results.PolicyLRU, "cache policy: LRU, Random, SIEVE or S3-FIFO")
	fs.Float64Var(&cfg.Rate, "rate", resize.DefaultRate, "offered rate, requests/s")
	fs.DurationVar(&cfg.Duration, "duration", resize.DefaultDuration, "length of the attack")
	fs.DurationVar(&cfg.Window, "window", resize.DefaultWindow, "the hit rate before a resize is the mean over this long")
	fs.IntVar(&cfg.Dataset.Images, "images", 0, "images in the data set (0: 200)")
	fs.Uint64Var(&cfg.Dataset.Seed, "seed", loadgen.DefaultSeed, "seed of the data set and of the key draws")
	fs.BoolVar(&cfg.NoVerify, "no-verify", false, "do not check each read's answer against the uploads (wrong or stale reads fail the run)")
	fs.Float64Var(&cfg.CacheFraction, "cache-fraction", loadgen.DefaultCacheFraction, "capacity of each node as a share of the data set's cached size")
	fs.IntVar(&cfg.CapacityMB, "cache-mb", 0, "capacity of each node in MB (0: from -cache-fraction)")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "timeout of a request")
	fs.Uint64Var(&cfg.MaxWorkers, "workers", loadgen.DefaultMaxWorkers, "most concurrent requests (vegeta workers)")
	// -nodes means the active nodes here, two by default so that a standby one can join a pool.
	if err := fs.Set("nodes", fmt.Sprint(resize.DefaultNodes)); err != nil {
		return err
	}
	fs.Lookup("nodes").DefValue = fmt.Sprint(resize.DefaultNodes)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	log, err := cli.Logger(stderr, *logLevel)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg.Logger, svc.Logger = log, log
	cfg.Progress = stdout
	if cfg.Mix, err = results.ParseMix(*mix); err != nil {
		return err
	}
	if cfg.At, err = parseDurations(*at); err != nil {
		fmt.Fprintf(stderr, "loadgen resize: -at: %v\n", err)
		return errUsage
	}
	cfg.Tolerance = *points / 100
	if err := cfg.Validate(); err != nil {
		return err
	}

	s, err := loadgen.StartServices(ctx, svc)
	if err != nil {
		return err
	}
	defer func() {
		if err := s.Close(); err != nil {
			log.Warn("stopping the services", "err", err)
		}
	}()
	cfg.BackendURLs, cfg.MemcacheURLs = s.BackendURLs(), s.MemcacheURLs()
	res, runErr := resize.Run(ctx, cfg)
	if res == nil || len(res.Windows) == 0 {
		return runErr
	}
	if err := resize.WriteFiles(*out, res); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintln(stdout)
	if err := resize.WriteMarkdown(stdout, res); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(stdout, "\nresize report: %s\n", filepath.Join(*out, resize.Markdown))
	return runErr
}

func joinDurations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ",")
}

func parseDurations(s string) ([]time.Duration, error) {
	out := []time.Duration{} // not nil: an empty list means no resize, not the default
	for _, f := range splitList(s) {
		d, err := time.ParseDuration(f)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
