package loadgentest

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"imgcache/app"
	"imgcache/app/web"
	"imgcache/memcache"
)

// RealEnv, set to 1 beside ProcessEnv, makes the test binary run the real services (app.Run and
// memcache.Run, what bin/backend and bin/memcache run) instead of the fakes, so that tests of a
// pool, several backends or S3 storage need no build of the binaries.
const RealEnv = "LOADGEN_REAL_SERVICE"

// serveReal runs the real backend (with -memcache) or memcache from the flags StartServices
// passes, until SIGTERM or SIGINT, and returns the exit code.
func serveReal(args []string) int {
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	mc := fs.String("memcache", "", "")
	db := fs.String("db", "", "")
	data := fs.String("data", "", "")
	storage := fs.String("storage", "", "")
	level := fs.String("log-level", "info", "")
	standby := fs.Bool("standby", false, "")
	fs.String("drain", "", "") // Drain is -1 below
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var err error
	if *mc != "" {
		err = app.Run(ctx, app.Config{Addr: *addr, MemcacheURL: *mc, DB: *db, DataDir: *data, Storage: *storage,
			S3AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), S3SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
			SweepInterval: -1, Drain: -1, Logger: log, Pages: web.New, // no load balancer polls it: stop at once
			// The tests measure what the harness reports, not the deadlines: on a busy machine under
			// the race detector a database call, a cache call or a heartbeat may take seconds, which
			// must not fail a request or drop a node.
			DBTimeout: time.Minute, MemcacheTimeout: 5 * time.Second, NodeTimeout: time.Minute})
	} else {
		err = memcache.Run(ctx, memcache.Config{Addr: *addr, DB: *db, Standby: *standby, Logger: log})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		return 1
	}
	return 0
}
