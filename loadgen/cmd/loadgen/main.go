// Command loadgen benchmarks imgcache: it starts the backend and memcache (or uses running ones),
// runs read/write mixes and cache policies at rising rates with vegeta, searches for saturation,
// repeats each cell, computes miss-ratio curves from the keys it sent, and writes the report.
//
//	loadgen [flags]                          run the matrix (make bench), write reports/out/
//	loadgen -quick                           a short run for CI (make bench-quick)
//	loadgen -target URL -memcache URL        run against a running deployment
//	loadgen -workload ycsb                   YCSB's workloads A, B and C as the mixes
//	loadgen -trace FILE.csv                  replay a cache trace in Twitter's CSV format
//	loadgen report -in results.json -out DIR redraw the report from saved results
//	loadgen compare A/results.json B/results.json
//	                                         compare two runs; exit 3 on a regression
//	loadgen maxrate                          the highest rate loadgen can offer on this machine
//	loadgen resize                           what a memcache pool resize costs: hit-rate dip and recovery
//	loadgen simulate -unit-size TRACE        miss ratios of each policy and MIN by cache size, offline
//	loadgen -storage s3 -backends 2 -nodes 4 the services started with S3 storage, 2 backends, 4 nodes
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
	"imgcache/loadgen/cost"
	"imgcache/loadgen/cpuload"
	"imgcache/loadgen/maxrate"
	"imgcache/loadgen/pin"
	"imgcache/memcache/cmd/cli"
	"imgcache/reports/bench"
	"imgcache/reports/results"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes besides 0 (success), 1 (error) and 2 (usage).
const (
	exitRegression  = 3 // loadgen compare: a metric got worse beyond the threshold
	exitInterrupted = 130
)

// run dispatches the subcommands and returns the exit code; argv[0] is the program's name.
func run(ctx context.Context, argv []string, stdout, stderr io.Writer) int {
	cmd, args := "bench", argv[1:]
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "bench", "run":
		err = benchCmd(ctx, argv, args, stdout, stderr)
	case "report":
		err = reportCmd(args, stdout, stderr)
	case "compare":
		err = compareCmd(args, stdout, stderr)
	case "maxrate":
		err = maxrateCmd(ctx, args, stdout, stderr)
	case "resize":
		err = resizeCmd(ctx, args, stdout, stderr)
	case "simulate":
		err = simulateCmd(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, "usage: loadgen [bench] [flags] | loadgen report -in results.json -out DIR | loadgen compare [-threshold 0.1] A/results.json B/results.json | loadgen maxrate [flags] | loadgen resize [flags] | loadgen simulate [flags] TRACE")
		return 0
	default:
		fmt.Fprintf(stderr, "loadgen: unknown command %q (want bench, report, compare, maxrate, resize or simulate)\n", cmd)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errRegression):
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return exitRegression
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "loadgen: interrupted")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "loadgen: %v\n", err)
	return 1
}

var (
	errUsage      = errors.New("usage")
	errRegression = errors.New("regression")
	errUnverified = errors.New("reads failed verification")
)

// parse parses flags and wants exactly nargs arguments after them (-1: none checked).
func parse(fs *flag.FlagSet, args []string, nargs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if nargs >= 0 && fs.NArg() != nargs {
		fmt.Fprintf(fs.Output(), "want %d arguments after the flags, got %q\n", nargs, fs.Args())
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

func benchCmd(ctx context.Context, argv, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg       loadgen.Config
		svc       loadgen.ServicesConfig
		mixes     = fs.String("mixes", "20:80,50:50,80:20", "read:write mixes, comma-separated")
		policies  = fs.String("policies", "LRU,Random,off", "cache policies, comma-separated: LRU, Random, SIEVE, S3-FIFO, off (capacity 0, the baseline)")
		workload  = fs.String("workload", loadgen.WorkloadDefault, "preset: default, ycsb-a (50:50), ycsb-b (95:5), ycsb-c (100:0) or ycsb (all three), Zipf 0.99; comma-separated")
		trace     = fs.String("trace", "", "replay this cache trace (Twitter's CSV format: timestamp,key,key size,value size,client id,operation,TTL)")
		traceKeys = fs.Int("trace-max-keys", loadgen.DefaultTraceMaxKeys, "most distinct keys a replayed trace may have (each is an uploaded image)")
		out       = fs.String("out", env("LOADGEN_OUT", "reports/out"), "report folder (env LOADGEN_OUT)")
		logLevel  = fs.String("log-level", env("LOADGEN_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
		noVegeta  = fs.Bool("no-vegeta-files", false, "do not keep vegeta's per-step result files")
		svcArgsB  = fs.String("backend-args", "", "extra arguments for the backend, space-separated")
		svcArgsM  = fs.String("memcache-args", "", "extra arguments for the memcache, space-separated")
		pinCPUs   = fs.Bool("pin", false, "run loadgen and the services it starts on disjoint CPUs (Linux; a third of the CPUs for loadgen)")
	)
	fs.BoolVar(&cfg.NoVerify, "no-verify", false, "do not check each read's answer against the uploads (wrong or stale reads fail the run)")
	fs.BoolVar(&cfg.Quick, "quick", false, "short run for CI: 50 images, one run a cell, rates 100 and 400/s, 2 s steps")
	targets := fs.String("target", env("LOADGEN_TARGET", ""), "backend URLs of a running deployment, comma-separated (requests spread over them in turn); empty starts the services (env LOADGEN_TARGET)")
	memcaches := fs.String("memcache", env("LOADGEN_MEMCACHE", ""), "memcache URLs of a running deployment, comma-separated (every node of a pool), for hit rates (env LOADGEN_MEMCACHE)")
	fs.StringVar(&cfg.MemcacheSecret, "memcache-secret", env("IMGCACHE_MEMCACHE_SECRET", ""), "the memcache's shared secret, for its statistics (env IMGCACHE_MEMCACHE_SECRET)")
	fs.StringVar(&svc.BackendBin, "backend-bin", loadgen.DefaultBackendBin, "backend binary to start")
	fs.StringVar(&svc.MemcacheBin, "memcache-bin", loadgen.DefaultMemcacheBin, "memcache binary to start")
	fs.StringVar(&svc.LogLevel, "service-log-level", loadgen.DefaultServiceLogLevel, "log level of the started services")
	fs.BoolVar(&svc.Keep, "keep", false, "keep the started services' temporary folder (database, images, logs)")
	addServiceFlags(fs, &svc)
	fs.IntVar(&cfg.Dataset.Images, "images", 0, "images in the data set (0: 200, or 50 with -quick)")
	fs.Uint64Var(&cfg.Dataset.Seed, "seed", loadgen.DefaultSeed, "seed of the data set and of the key draws (run r draws with seed+r)")
	fs.StringVar(&cfg.Popularity, "popularity", "", "read key popularity: zipf or uniform (default zipf)")
	fs.Float64Var(&cfg.ZipfS, "zipf-s", 0, fmt.Sprintf("Zipf exponent (0: %g)", loadgen.DefaultZipfS))
	fs.StringVar(&cfg.WriteKeys, "write-keys", "", "where writes go: same (the read law), uniform, or new (keys no read asks for) (default same)")
	fs.IntVar(&cfg.Repeat, "repeat", 0, fmt.Sprintf("runs of each cell, interleaved, for medians with intervals (min–max below 6 runs) (0: %d, or %d with -quick)", loadgen.DefaultRepeat, loadgen.QuickRepeat))
	fs.Float64Var(&cfg.CacheFraction, "cache-fraction", loadgen.DefaultCacheFraction, "cache capacity as a share of the data set's cached size")
	fs.IntVar(&cfg.CapacityMB, "cache-mb", 0, "cache capacity in MB (0: from -cache-fraction)")
	fs.Float64Var(&cfg.StartRate, "start-rate", 0, fmt.Sprintf("first offered rate, requests/s (0: %d, or %d with -quick)", loadgen.DefaultStartRate, loadgen.QuickStartRate))
	fs.Float64Var(&cfg.RateFactor, "rate-factor", 0, "each sweep step offers this many times the last (0: 2, or 4 with -quick)")
	fs.Float64Var(&cfg.MaxRate, "max-rate", 0, fmt.Sprintf("highest offered rate (0: %d, or %d with -quick)", loadgen.DefaultMaxRate, loadgen.QuickMaxRate))
	fs.Float64Var(&cfg.Resolution, "resolution", loadgen.DefaultResolution, "the search stops once (hi-lo)/lo of its interval is at most this")
	fs.IntVar(&cfg.SearchSteps, "search-steps", 0, fmt.Sprintf("step budget of the search (0: %d, or %d with -quick; -1: no search)", loadgen.DefaultSearchSteps, loadgen.QuickSearchSteps))
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "uncounted warm-up of each step (0: 500ms)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "measured duration of each step (0: 5s, or 1.5s with -quick); a full run's confirmation step is three times as long")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "timeout of a request")
	fs.Uint64Var(&cfg.MaxWorkers, "workers", loadgen.DefaultMaxWorkers, "most concurrent requests (vegeta workers)")
	fs.Float64Var(&cfg.Limits.MinAchieved, "min-achieved", results.DefaultMinAchieved, "saturated when achieved/offered falls below this")
	fs.Float64Var(&cfg.Limits.MaxErrorRate, "max-errors", results.DefaultMaxErrorRate, "saturated when the error share exceeds this")
	fs.DurationVar(&cfg.Limits.MaxP99, "max-p99", results.DefaultMaxP99, "saturated when p99 exceeds this")
	fs.Float64Var(&cfg.HeavyLoad, "heavy-load", 0, "flag a step when other processes used more than this many CPUs during it (0: a quarter of the CPUs)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	log, err := cli.Logger(stderr, *logLevel)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg.Logger, svc.Logger = log, log
	cfg.Progress = stdout
	cfg.Command = argv
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["mixes"] {
		for _, m := range splitList(*mixes) {
			mix, err := results.ParseMix(m)
			if err != nil {
				return err
			}
			cfg.Mixes = append(cfg.Mixes, mix)
		}
	}
	if err := loadgen.ApplyWorkload(&cfg, *workload); err != nil {
		return err
	}
	if *trace != "" {
		if err := loadgen.LoadTrace(&cfg, *trace, *traceKeys); err != nil {
			return err
		}
	}
	if cfg.Quick {
		loadgen.ApplyQuick(&cfg)
	}
	cfg.Policies = splitList(*policies)
	cfg.MemcacheURLs = splitList(*memcaches)
	cfg.BackendURLs = splitList(*targets)
	svc.BackendArgs = strings.Fields(*svcArgsB)
	svc.MemcacheArgs = strings.Fields(*svcArgsM)

	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	vegetaDir := filepath.Join(*out, bench.VegetaDir)
	if err := os.RemoveAll(vegetaDir); err != nil { // files of an older run would mislead a merge
		return err
	}
	if !*noVegeta {
		cfg.VegetaDir = vegetaDir
	}

	database := "external (as the deployment is configured)"
	cfg.Load = cpuload.New("")
	if len(cfg.BackendURLs) == 0 {
		plan, err := pinPlan(*pinCPUs)
		if err != nil {
			return err
		}
		s, err := loadgen.StartServices(ctx, svc)
		if err == nil && *pinCPUs {
			cfg.Pinned, err = plan.String(), pin.Process(0, plan.Loadgen) // the services keep the CPUs they were started on
		}
		if err != nil {
			if s != nil {
				s.Close()
			}
			return err
		}
		defer func() {
			if err := s.Close(); err != nil {
				log.Warn("stopping the services", "err", err)
			}
		}()
		cfg.BackendURLs, cfg.MemcacheURLs, cfg.Managed = s.BackendURLs(), s.MemcacheURLs(), true
		cfg.Storage, cfg.Nodes = s.Storage(), svc.Nodes
		if !svc.S3Model.Zero() {
			cfg.StorageModel = svc.S3Model.String()
		}
		cfg.Load = cpuload.New("", s.PIDs()...)
		cfg.Cost = cost.New("", s.Tiers(), s.BackendURLs())
		database = managedDatabase(svc)
	}
	cfg.Machine = loadgen.CollectMachine(ctx, ".", database)

	start := time.Now()
	res, runErr := loadgen.Run(ctx, cfg)
	if res == nil || len(res.Series) == 0 {
		return runErr
	}
	if err := bench.WriteReport(*out, res); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(stdout, "report: %s (run took %v)\n", filepath.Join(*out, bench.IndexHTML), time.Since(start).Round(time.Second))
	return errors.Join(runErr, verified(stdout, res, cfg.NoVerify))
}

// verified prints the count of verified reads and returns an error when any was wrong or stale.
func verified(stdout io.Writer, res *results.Results, off bool) error {
	if off {
		fmt.Fprintln(stdout, "verified: off (-no-verify)")
		return nil
	}
	v := res.Verification()
	fmt.Fprintf(stdout, "verified: %d reads, %d wrong, %d stale\n", v.Verified, v.Wrong, v.Stale)
	for _, b := range v.BadReads {
		fmt.Fprintf(stdout, "  %s\n", bench.BadReadText(b))
	}
	if v.Unverified() > 0 {
		return fmt.Errorf("%d wrong and %d stale reads of %d verified: %w", v.Wrong, v.Stale, v.Verified, errUnverified)
	}
	return nil
}

// pinPlan, when on, splits the CPUs and confines this process to the services' share, which the
// services it starts inherit; loadgen moves to its own share once they have started.
func pinPlan(on bool) (pin.Plan, error) {
	if !on {
		return pin.Plan{}, nil
	}
	cpus, err := pin.Allowed()
	if err != nil {
		return pin.Plan{}, err
	}
	plan, err := pin.Split(cpus)
	if err != nil {
		return pin.Plan{}, err
	}
	return plan, pin.Process(0, plan.Services)
}

// addServiceFlags adds the flags of the started services' layout: storage, backends, nodes.
func addServiceFlags(fs *flag.FlagSet, svc *loadgen.ServicesConfig) {
	fs.StringVar(&svc.Storage, "storage", loadgen.StorageFile, "image store of the started backends: file (a folder) or s3 (a versitygw started beside them)")
	fs.StringVar(&svc.VersitygwBin, "versitygw-bin", "", "versitygw binary for -storage s3 (default: on PATH, else in $(go env GOPATH)/bin)")
	fs.DurationVar(&svc.S3Model.Latency, "s3-latency", 0, "with -storage s3: a proxy between the backends and the S3 server delays each response's first byte by this much, as a remote store would (whole ms; 0: none)")
	fs.Int64Var(&svc.S3Model.Bandwidth, "s3-bandwidth", 0, "with -storage s3: the proxy caps each connection's responses at this many bytes a second (0: no cap)")
	fs.IntVar(&svc.Backends, "backends", loadgen.DefaultBackends, fmt.Sprintf("backends to start, on one database and image store (1 to %d)", loadgen.MaxBackends))
	fs.IntVar(&svc.Nodes, "nodes", loadgen.DefaultNodes, fmt.Sprintf("memcache nodes to start, a consistent-hash pool, each with the cache capacity (1 to %d)", loadgen.MaxNodes))
}

// managedDatabase describes the database of the started services for the results' machine.
func managedDatabase(svc loadgen.ServicesConfig) string {
	d := "SQLite (embedded, modernc.org/sqlite)"
	if n := max(svc.Backends, 1) + max(svc.Nodes, 1) + svc.Standby; n > 2 {
		d += fmt.Sprintf(", one file shared by %d processes", n)
	}
	return d
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

func reportCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "reports/out/results.json", "saved results")
	out := fs.String("out", "", "report folder (default: the folder of -in)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Dir(*in)
	}
	res, err := results.ReadFile(*in)
	if err != nil {
		return err
	}
	if err := bench.WriteReport(*out, res); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(*out, bench.IndexHTML))
	return nil
}

func compareCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: loadgen compare [flags] A/results.json B/results.json\n\nCompares run B with run A cell by cell, prints Markdown, writes compare.md and compare.html,\nand exits 3 when a metric got worse beyond the threshold with intervals that do not overlap.")
		fs.PrintDefaults()
	}
	threshold := fs.Float64("threshold", 0.1, "relative change beyond which a worse metric is a regression")
	out := fs.String("out", "", "folder for compare.md and compare.html (default: the folder of B)")
	if err := parse(fs, args, 2); err != nil {
		return err
	}
	if *threshold < 0 {
		fmt.Fprintln(stderr, "loadgen compare: -threshold must not be negative")
		return errUsage
	}
	a, err := results.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := results.ReadFile(fs.Arg(1))
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Dir(fs.Arg(1))
	}
	cmp := bench.Compare(a, b, *threshold)
	if err := bench.WriteCompareMarkdown(stdout, cmp); err != nil {
		return err
	}
	if err := bench.WriteCompareFiles(*out, cmp); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ncomparison: %s\n", filepath.Join(*out, bench.CompareHTML))
	if cmp.Regressions > 0 {
		return fmt.Errorf("%d metric(s) worse by more than %.0f%%: %w", cmp.Regressions, 100**threshold, errRegression)
	}
	return nil
}

func maxrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen maxrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg maxrate.Config
	rates := fs.String("rates", "10000,20000,40000,60000,80000", "offered rates to try, comma-separated")
	fs.DurationVar(&cfg.Duration, "duration", maxrate.DefaultDuration, "measured duration of each step")
	fs.Uint64Var(&cfg.MaxWorkers, "workers", maxrate.DefaultWorkers, "most concurrent requests")
	fs.BoolVar(&cfg.NoVerify, "no-verify", false, "do not check the answers, to measure what checking costs")
	if err := parse(fs, args, 0); err != nil {
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
	_, best, err := maxrate.Run(ctx, cfg)
	if err != nil {
		return err
	}
	verdict := "ok"
	if best < maxrate.Goal {
		verdict = fmt.Sprintf("BELOW the %d/s goal", maxrate.Goal)
	}
	fmt.Fprintf(stdout, "maxrate: loadgen offered up to %.0f requests/s to a trivial local server (%s)\n", best, verdict)
	return nil
}
