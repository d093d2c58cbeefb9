// Command loadgen benchmarks imgcache: it starts the backend and memcache (or uses running ones),
// sweeps read/write mixes and cache policies at rising rates with vegeta, and writes the report.
//
//	loadgen [flags]                          run the matrix (make bench), write reports/out/
//	loadgen -quick                           a short run for CI (make bench-quick)
//	loadgen -target URL -memcache URL        run against a running deployment
//	loadgen report -in results.json -out DIR redraw the report from saved results
//	loadgen maxrate                          the highest rate loadgen can offer on this machine
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"imgcache/loadgen"
	"imgcache/memcache/cmd/cli"
	benchreport "imgcache/reports/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches the subcommands and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "bench"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "bench", "run":
		err = bench(ctx, args, stdout, stderr)
	case "report":
		err = report(args, stdout, stderr)
	case "maxrate":
		err = maxrate(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, "usage: loadgen [bench] [flags] | loadgen report -in results.json -out DIR | loadgen maxrate [flags]")
		return 0
	default:
		fmt.Fprintf(stderr, "loadgen: unknown command %q (want bench, report or maxrate)\n", cmd)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "loadgen: interrupted")
		return 130
	}
	fmt.Fprintf(stderr, "loadgen: %v\n", err)
	return 1
}

var errUsage = errors.New("usage")

// parse parses flags; the flag package has already explained any error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	return nil
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      loadgen.Config
		svc      loadgen.ServicesConfig
		mixes    = fs.String("mixes", "20:80,50:50,80:20", "read:write mixes, comma-separated")
		policies = fs.String("policies", "LRU,Random,off", "cache policies, comma-separated (off = capacity 0, the baseline)")
		out      = fs.String("out", env("LOADGEN_OUT", "reports/out"), "report folder (env LOADGEN_OUT)")
		logLevel = fs.String("log-level", env("LOADGEN_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
		noVegeta = fs.Bool("no-vegeta-files", false, "do not keep vegeta's per-step result files")
		svcArgsB = fs.String("backend-args", "", "extra arguments for the backend, space-separated")
		svcArgsM = fs.String("memcache-args", "", "extra arguments for the memcache, space-separated")
	)
	fs.BoolVar(&cfg.Quick, "quick", false, "short run for CI: 50 images, rates 100 and 400/s, 2 s steps")
	fs.StringVar(&cfg.BackendURL, "target", env("LOADGEN_TARGET", ""), "backend URL of a running deployment; empty starts both services (env LOADGEN_TARGET)")
	fs.StringVar(&cfg.MemcacheURL, "memcache", env("LOADGEN_MEMCACHE", ""), "memcache URL of a running deployment, for hit rates (env LOADGEN_MEMCACHE)")
	fs.StringVar(&svc.BackendBin, "backend-bin", loadgen.DefaultBackendBin, "backend binary to start")
	fs.StringVar(&svc.MemcacheBin, "memcache-bin", loadgen.DefaultMemcacheBin, "memcache binary to start")
	fs.StringVar(&svc.LogLevel, "service-log-level", loadgen.DefaultServiceLogLevel, "log level of the started services")
	fs.BoolVar(&svc.Keep, "keep", false, "keep the started services' temporary folder (database, images, logs)")
	fs.IntVar(&cfg.Dataset.Images, "images", 0, "images in the data set (0: 200, or 50 with -quick)")
	fs.Uint64Var(&cfg.Dataset.Seed, "seed", loadgen.DefaultSeed, "seed of the data set and of the key draws")
	fs.StringVar(&cfg.Popularity, "popularity", loadgen.PopularityZipf, "key popularity: zipf or uniform")
	fs.Float64Var(&cfg.ZipfS, "zipf-s", loadgen.DefaultZipfS, "Zipf exponent")
	fs.Float64Var(&cfg.CacheFraction, "cache-fraction", loadgen.DefaultCacheFraction, "cache capacity as a share of the data set's cached size")
	fs.IntVar(&cfg.CapacityMB, "cache-mb", 0, "cache capacity in MB (0: from -cache-fraction)")
	fs.Float64Var(&cfg.StartRate, "start-rate", 0, "first offered rate, requests/s (0: 50, or 100 with -quick)")
	fs.Float64Var(&cfg.RateFactor, "rate-factor", 0, "each step offers this many times the last (0: 2, or 4 with -quick)")
	fs.Float64Var(&cfg.MaxRate, "max-rate", 0, "highest offered rate (0: 6400, or 400 with -quick)")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "uncounted warm-up of each step (0: 1.5s, or 500ms with -quick)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "measured duration of each step (0: 6s, or 1.5s with -quick)")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "timeout of a request")
	fs.Uint64Var(&cfg.MaxWorkers, "workers", loadgen.DefaultMaxWorkers, "most concurrent requests (vegeta workers)")
	fs.Float64Var(&cfg.Limits.MinAchieved, "min-achieved", loadgen.DefaultMinAchieved, "saturated when achieved/offered falls below this")
	fs.Float64Var(&cfg.Limits.MaxErrorRate, "max-errors", loadgen.DefaultMaxErrorRate, "saturated when the error share exceeds this")
	fs.DurationVar(&cfg.Limits.MaxP99, "max-p99", loadgen.DefaultMaxP99, "saturated when p99 exceeds this")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := cli.Logger(stderr, *logLevel)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg.Logger, svc.Logger = log, log
	cfg.Progress = stdout
	if cfg.Quick {
		loadgen.ApplyQuick(&cfg)
	}
	for _, m := range splitList(*mixes) {
		mix, err := loadgen.ParseMix(m)
		if err != nil {
			return err
		}
		cfg.Mixes = append(cfg.Mixes, mix)
	}
	cfg.Policies = splitList(*policies)
	svc.BackendArgs = strings.Fields(*svcArgsB)
	svc.MemcacheArgs = strings.Fields(*svcArgsM)

	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if !*noVegeta {
		cfg.VegetaDir = filepath.Join(*out, "vegeta")
		if err := os.RemoveAll(cfg.VegetaDir); err != nil { // files of an older run would mislead a merge
			return err
		}
	}

	database := "external (as the deployment is configured)"
	if cfg.BackendURL == "" {
		s, err := loadgen.StartServices(ctx, svc)
		if err != nil {
			return err
		}
		defer func() {
			if err := s.Close(); err != nil {
				log.Warn("stopping the services", "err", err)
			}
		}()
		cfg.BackendURL, cfg.MemcacheURL, cfg.Managed = s.BackendURL(), s.MemcacheURL(), true
		database = "SQLite (embedded, modernc.org/sqlite)"
	}
	cfg.Machine = loadgen.CollectMachine(ctx, ".", database)

	start := time.Now()
	res, runErr := loadgen.Run(ctx, cfg)
	if res == nil || len(res.Series) == 0 {
		return runErr
	}
	if err := benchreport.WriteBenchReport(*out, res); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(stdout, "report: %s (run took %v)\n", filepath.Join(*out, "index.html"), time.Since(start).Round(time.Second))
	return runErr
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func report(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "reports/out/results.json", "saved results")
	out := fs.String("out", "", "report folder (default: the folder of -in)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Dir(*in)
	}
	res, err := loadgen.ReadResults(*in)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := benchreport.WriteBenchReport(*out, res); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(*out, "index.html"))
	return nil
}

func maxrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen maxrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadgen.MaxRateConfig
	rates := fs.String("rates", "10000,20000,40000,60000,80000", "offered rates to try, comma-separated")
	fs.DurationVar(&cfg.Duration, "duration", loadgen.DefaultMaxRateDuration, "measured duration of each step")
	fs.Uint64Var(&cfg.MaxWorkers, "workers", loadgen.DefaultMaxRateWorkers, "most concurrent requests")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, r := range splitList(*rates) {
		var v float64
		if _, err := fmt.Sscan(r, &v); err != nil || v < 1 {
			fmt.Fprintf(stderr, "loadgen maxrate: bad rate %q\n", r)
			return errUsage
		}
		cfg.Rates = append(cfg.Rates, v)
	}
	cfg.Progress = stdout
	_, best, err := loadgen.MaxRate(ctx, cfg)
	if err != nil {
		return err
	}
	verdict := "ok"
	if best < loadgen.MaxRateGoal {
		verdict = fmt.Sprintf("BELOW the %d/s goal", loadgen.MaxRateGoal)
	}
	fmt.Fprintf(stdout, "maxrate: loadgen offered up to %.0f requests/s to a trivial local server (%s)\n", best, verdict)
	return nil
}
