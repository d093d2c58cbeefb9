// Command memcache runs the imgcache cache service.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"imgcache/database"
	"imgcache/memcache"
	"imgcache/memcache/cmd/cli"
)

var env = map[string]string{
	"addr":             "IMGCACHE_MEMCACHE_ADDR",
	"secret":           "IMGCACHE_MEMCACHE_SECRET",
	"advertise":        "IMGCACHE_MEMCACHE_ADVERTISE",
	"standby":          "IMGCACHE_MEMCACHE_STANDBY",
	"db":               "IMGCACHE_DB",
	"db-timeout":       "IMGCACHE_DB_TIMEOUT",
	"stats-interval":   "IMGCACHE_STATS_INTERVAL",
	"stats-retention":  "IMGCACHE_STATS_RETENTION",
	"max-body":         "IMGCACHE_MEMCACHE_MAX_BODY",
	"max-conns-per-ip": "IMGCACHE_MEMCACHE_MAX_CONNS_PER_IP",
	"log-level":        "IMGCACHE_LOG_LEVEL",
	"live-mrc":         "IMGCACHE_MEMCACHE_LIVE_MRC",
}

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("memcache", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg memcache.Config
	fs.StringVar(&cfg.Addr, "addr", memcache.DefaultAddr, "listen address (internal service: loopback by default)")
	fs.StringVar(&cfg.Secret, "secret", "", "shared secret callers must send as \"Authorization: Bearer SECRET\"; required to listen beyond loopback (prefer the environment variable: flags show in ps)")
	fs.StringVar(&cfg.Advertise, "advertise", "", "the URL backends reach this node at (default http:// and -addr; required when -addr is a wildcard)")
	fs.BoolVar(&cfg.Standby, "standby", false, "join the pool as a standby node, used once activated (pool page or auto-scaler)")
	fs.StringVar(&cfg.DB, "db", database.DefaultDSN, "database: sqlite:PATH or mysql:USER@tcp(HOST:PORT)/DB")
	fs.DurationVar(&cfg.DBTimeout, "db-timeout", database.DefaultTimeout, "deadline of each database call")
	fs.DurationVar(&cfg.StatsInterval, "stats-interval", memcache.DefaultStatsInterval, "how often a cache_stats row is written")
	fs.DurationVar(&cfg.StatsRetention, "stats-retention", memcache.DefaultStatsRetention, "cache_stats rows older than this are deleted")
	fs.IntVar(&cfg.MaxBodySize, "max-body", memcache.DefaultMaxBodySize, "request body limit in bytes")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", memcache.DefaultMaxConnsPerIP, "most connections one client address may hold")
	fs.BoolVar(&cfg.LiveMRC, "live-mrc", false, "keep a live miss-ratio curve of this node (GET /mrc); off until its cost is measured")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = cli.Usage(fs, "memcache: the imgcache cache service (LRU and Random Replacement, stats to the database)", env)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cli.Env(fs, env, os.LookupEnv); err != nil {
		fmt.Fprintln(stderr, "memcache:", err)
		return 2
	}
	log, err := cli.Logger(stderr, *level)
	if err != nil {
		fmt.Fprintln(stderr, "memcache:", err)
		return 2
	}
	cfg.Logger = log
	ctx, stop := cli.SignalContext(context.Background(), log)
	defer stop()
	if err := memcache.Run(ctx, cfg); err != nil {
		log.Error("memcache stopped", "err", err)
		return 1
	}
	log.Info("memcache stopped")
	return 0
}
