// Command backend runs the imgcache backend: the pages and the JSON API on :5000. `backend
// import-original -images DIR [-from DSN]` takes over a deployment of the Flask original instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"imgcache/app"
	"imgcache/app/original"
	"imgcache/app/web"
	"imgcache/database"
	"imgcache/memcache/cmd/cli"
)

var env = map[string]string{
	"addr":             "IMGCACHE_ADDR",
	"memcache":         "IMGCACHE_MEMCACHE_URL",
	"memcache-secret":  "IMGCACHE_MEMCACHE_SECRET",
	"memcache-timeout": "IMGCACHE_MEMCACHE_TIMEOUT",
	"drain":            "IMGCACHE_DRAIN",
	"db":               "IMGCACHE_DB",
	"db-timeout":       "IMGCACHE_DB_TIMEOUT",
	"data":             "IMGCACHE_DATA",
	"storage":          "IMGCACHE_STORAGE",
	"max-upload":       "IMGCACHE_MAX_UPLOAD",
	"max-capacity":     "IMGCACHE_MAX_CAPACITY",
	"max-side":         "IMGCACHE_MAX_SIDE",
	"max-pixels":       "IMGCACHE_MAX_PIXELS",
	"max-conns-per-ip": "IMGCACHE_MAX_CONNS_PER_IP",
	"sweep-grace":      "IMGCACHE_SWEEP_GRACE",
	"sweep-interval":   "IMGCACHE_SWEEP_INTERVAL",
	"public-host":      "IMGCACHE_PUBLIC_HOST",
	"log-level":        "IMGCACHE_LOG_LEVEL",
	"autoscale":        "IMGCACHE_AUTOSCALE",
	"reports":          "IMGCACHE_REPORTS",
}

// minSweepGrace is the shortest orphan-sweep grace the command accepts: more than an upload may take
// between storing its object (an object store's retries: 3 x 10 s) and committing its row (the
// database's deadline), on another backend that this one's sweep cannot see. Tests use shorter ones
// through app.Config.
const minSweepGrace = time.Minute

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "import-original" {
		return importOriginal(args[1:], stderr)
	}
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	fs.StringVar(&cfg.Addr, "addr", app.DefaultAddr, "listen address (use :5000 to listen on every interface)")
	fs.StringVar(&cfg.MemcacheURL, "memcache", app.DefaultMemcacheURL, "base URL of the memcache service")
	fs.StringVar(&cfg.MemcacheSecret, "memcache-secret", "", "the memcache's shared secret (prefer the environment variable: flags show in ps)")
	fs.DurationVar(&cfg.MemcacheTimeout, "memcache-timeout", app.DefaultMemcacheTimeout, "deadline of a cache call on a request's path, up to the first byte (a value's transfer is allowed time by its size); a node that misses it fails the call, and a few failures in a row eject it")
	fs.DurationVar(&cfg.Drain, "drain", app.DefaultDrain, "on SIGTERM, how long /healthz answers 503 \"draining\" while every other request is served, before the listener closes; 0 closes it at once")
	fs.StringVar(&cfg.DB, "db", "", "database: sqlite:PATH or mysql:USER@tcp(HOST:PORT)/DB (default sqlite:DATA/imgcache.db)")
	fs.DurationVar(&cfg.DBTimeout, "db-timeout", database.DefaultTimeout, "deadline of each database call: a hung database answers 503 after it")
	fs.StringVar(&cfg.DataDir, "data", app.DefaultDataDir, "data folder: images under DATA/images, and the default database")
	fs.StringVar(&cfg.Storage, "storage", "", "image objects: file:DIR, or s3://BUCKET?endpoint=http://HOST:PORT[&region=REGION] with the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (default file:DATA/images)")
	fs.IntVar(&cfg.MaxUpload, "max-upload", app.DefaultMaxUpload, "largest accepted image in bytes")
	fs.IntVar(&cfg.MaxImageSide, "max-side", app.DefaultMaxImageSide, "largest width or height of an accepted image, in pixels")
	fs.Int64Var(&cfg.MaxImagePixels, "max-pixels", app.DefaultMaxImagePixels, "largest area of an accepted image, in pixels")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", app.DefaultMaxConnsPerIP, "most connections one client address may hold")
	fs.IntVar(&cfg.MaxCapacityMB, "max-capacity", app.DefaultMaxCapacityMB, "largest cache capacity in MB the properties page accepts")
	fs.DurationVar(&cfg.SweepGrace, "sweep-grace", app.DefaultSweepGrace, "age an image object must reach before the orphan sweep may remove it")
	fs.DurationVar(&cfg.SweepInterval, "sweep-interval", app.DefaultSweepInterval, "how often the orphan sweep runs, besides at start; negative turns it off")
	fs.BoolVar(&cfg.Autoscale, "autoscale", false, "turn the memcache pool's auto-scaler on, until settings are saved on the pool page")
	publicHosts := fs.String("public-host", "", "comma-separated host names users reach the backend by, besides IP addresses and localhost (a request for another name is refused: DNS rebinding)")
	fs.StringVar(&cfg.Reports, "reports", app.DefaultReports, "folder of benchmark runs the Benchmarks page lists (loadgen's -out): the folder itself and each folder in it that holds results.json; a missing folder lists none")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = cli.Usage(fs, "backend: the imgcache pages and JSON API", env)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cli.Env(fs, env, os.LookupEnv); err != nil {
		fmt.Fprintln(stderr, "backend:", err)
		return 2
	}
	if err := storageConfig(&cfg, os.LookupEnv); err != nil {
		fmt.Fprintln(stderr, "backend:", err)
		return 2
	}
	log, err := cli.Logger(stderr, *level)
	if err != nil {
		fmt.Fprintln(stderr, "backend:", err)
		return 2
	}
	cfg.Logger = log
	if cfg.Drain == 0 {
		cfg.Drain = -1 // the flag's 0 is none; the config's zero is the default
	}
	if cfg.SweepGrace < minSweepGrace {
		fmt.Fprintf(stderr, "backend: -sweep-grace %v is too short: another backend's upload may take that long between storing its object and committing its row; give at least %v\n", cfg.SweepGrace, minSweepGrace)
		return 2
	}
	for _, h := range strings.Split(*publicHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.PublicHosts = append(cfg.PublicHosts, h)
		}
	}
	ctx, stop := cli.SignalContext(context.Background(), log)
	defer stop()
	cfg.Pages = web.New
	if err := app.Run(ctx, cfg); err != nil {
		log.Error("backend stopped", "err", err)
		return 1
	}
	log.Info("backend stopped")
	return 0
}

// storageConfig checks the storage spec, so that a bad one stops the backend before it starts, and
// adds the S3 credentials from the environment, where they stay out of the process list.
func storageConfig(cfg *app.Config, lookup func(string) (string, bool)) error {
	if cfg.Storage == "" {
		return nil
	}
	st, err := app.ParseStorage(cfg.Storage)
	if err != nil {
		return err
	}
	if st.S3 == nil {
		return nil
	}
	cfg.S3AccessKey, _ = lookup("AWS_ACCESS_KEY_ID")
	cfg.S3SecretKey, _ = lookup("AWS_SECRET_ACCESS_KEY")
	if cfg.S3AccessKey == "" || cfg.S3SecretKey == "" {
		return errors.New("s3 storage needs its credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	return nil
}

// importOriginal runs `backend import-original`: the destination from the usual -db, -storage and
// -data (and their environment variables), the original's image folder from -images, its database
// from -from (default: -db, upgraded in place).
func importOriginal(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("backend import-original", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg original.Config
	fs.StringVar(&cfg.Images, "images", "", "the original's image folder: each row's location names a file in it (required)")
	fs.StringVar(&cfg.From, "from", "", "the original's database, only read (default: -db, upgraded in place)")
	fs.StringVar(&cfg.App.DB, "db", "", "destination database: sqlite:PATH or mysql:USER@tcp(HOST:PORT)/DB (default sqlite:DATA/imgcache.db)")
	fs.DurationVar(&cfg.App.DBTimeout, "db-timeout", database.DefaultTimeout, "deadline of each database call")
	fs.StringVar(&cfg.App.DataDir, "data", app.DefaultDataDir, "data folder: images under DATA/images, and the default database")
	fs.StringVar(&cfg.App.Storage, "storage", "", "destination image objects: file:DIR or s3://BUCKET?endpoint=... (default file:DATA/images)")
	fs.IntVar(&cfg.App.MaxUpload, "max-upload", app.DefaultMaxUpload, "largest accepted image in bytes")
	fs.IntVar(&cfg.App.MaxImageSide, "max-side", app.DefaultMaxImageSide, "largest width or height of an accepted image, in pixels")
	fs.Int64Var(&cfg.App.MaxImagePixels, "max-pixels", app.DefaultMaxImagePixels, "largest area of an accepted image, in pixels")
	sub := map[string]string{}
	for _, name := range []string{"db", "db-timeout", "data", "storage", "max-upload", "max-side", "max-pixels"} {
		sub[name] = env[name]
	}
	fs.Usage = cli.Usage(fs, "backend import-original: take over a Flask original's database and image folder", sub)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cli.Env(fs, sub, os.LookupEnv); err != nil {
		fmt.Fprintln(stderr, "backend import-original:", err)
		return 2
	}
	if cfg.Images == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "backend import-original: give the original's image folder with -images DIR, and no other arguments")
		return 2
	}
	if err := storageConfig(&cfg.App, os.LookupEnv); err != nil {
		fmt.Fprintln(stderr, "backend import-original:", err)
		return 2
	}
	log, _ := cli.Logger(stderr, "warn")
	cfg.App.Logger = log
	cfg.Out = stderr
	ctx, stop := cli.SignalContext(context.Background(), log)
	defer stop()
	sum, err := original.Run(ctx, cfg)
	sum.Write(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "backend import-original:", err)
		return 1
	}
	return 0
}
