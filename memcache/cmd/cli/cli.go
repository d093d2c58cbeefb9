// Package cli holds what imgcache's commands share: flags with environment fallbacks, logging set-up,
// and signal handling for a graceful stop.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// Env sets every flag of fs that was not given on the command line from the environment variable that
// env maps its name to, so flags win over the environment and the environment over defaults. Call it
// after fs.Parse.
func Env(fs *flag.FlagSet, env map[string]string, lookup func(string) (string, bool)) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, variable := range env {
		if set[name] {
			continue
		}
		v, ok := lookup(variable)
		if !ok || v == "" {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("%s=%q: %w", variable, v, err)
		}
	}
	return nil
}

// Usage returns a flag.FlagSet Usage function that lists the environment variable of each flag too.
func Usage(fs *flag.FlagSet, summary string, env map[string]string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "%s\n\nFlags (environment variable in brackets):\n", summary)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  -%s %s\n    \t%s", f.Name, name, usage)
			if f.DefValue != "" {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			}
			if v, ok := env[f.Name]; ok {
				fmt.Fprintf(w, " [%s]", v)
			}
			fmt.Fprintln(w)
		})
	}
}

// Logger returns a text logger at the named level (debug, info, warn, error).
func Logger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(level))); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// SignalContext returns a context cancelled by the first SIGINT or SIGTERM, so the command can stop
// gracefully; a second signal exits at once with status 1. stop releases the signal handlers.
func SignalContext(parent context.Context, log *slog.Logger) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			log.Info("stopping; a second signal exits at once", "signal", s.String())
			cancel()
		case <-done:
			return
		}
		select {
		case <-ch:
			log.Warn("second signal: exiting now")
			os.Exit(1)
		case <-done:
		}
	}()
	return ctx, sync.OnceFunc(func() {
		signal.Stop(ch)
		cancel()
		close(done)
	})
}
