package loadgentest

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// ProcessEnv is the environment variable that makes a test binary act as a fake service: see
// MaybeServe.
const ProcessEnv = "LOADGEN_FAKE_SERVICE"

// MaybeServe, called first in a TestMain, turns the test binary into a fake service when
// ProcessEnv is set, so that tests can pass os.Args[0] as the backend and memcache binaries.
// It takes the real services' flags; with -memcache it is a backend, else a memcache; with RealEnv
// it is the real one. It serves
// until SIGTERM or SIGINT, then exits 0. Without ProcessEnv it returns at once.
func MaybeServe() {
	if os.Getenv(ProcessEnv) == "" {
		return
	}
	if os.Getenv(RealEnv) == "1" {
		os.Exit(serveReal(os.Args[1:]))
	}
	os.Exit(serve(os.Args[1:]))
}

func serve(args []string) int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	mc := fs.String("memcache", "", "")
	fs.String("db", "", "")
	fs.String("data", "", "")
	fs.String("log-level", "", "")
	fs.String("drain", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f := New(Config{MemcacheURL: *mc})
	h := f.Memcache()
	if *mc != "" {
		h = f.Backend()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv := &http.Server{Addr: *addr, Handler: h}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "fake service:", err)
		return 1
	case <-ctx.Done():
		_ = srv.Shutdown(context.Background())
		return 0
	}
}
