package cli

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestEnv(t *testing.T) {
	env := map[string]string{"addr": "X_ADDR", "db": "X_DB", "n": "X_N"}
	vars := map[string]string{"X_ADDR": ":9", "X_DB": "sqlite:env.db", "X_N": "7"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	tests := []struct {
		name             string
		args             []string
		wantAddr, wantDB string
		wantN            int
	}{
		{"environment over defaults", nil, ":9", "sqlite:env.db", 7},
		{"flags over environment", []string{"-addr", ":1", "-n", "3"}, ":1", "sqlite:env.db", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			addr := fs.String("addr", ":5000", "")
			db := fs.String("db", "sqlite:default.db", "")
			n := fs.Int("n", 1, "")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := Env(fs, env, lookup); err != nil {
				t.Fatal(err)
			}
			if *addr != tt.wantAddr || *db != tt.wantDB || *n != tt.wantN {
				t.Errorf("got addr %q db %q n %d; want %q %q %d", *addr, *db, *n, tt.wantAddr, tt.wantDB, tt.wantN)
			}
		})
	}
	t.Run("bad value names the variable", func(t *testing.T) {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("n", 1, "")
		fs.Parse(nil)
		err := Env(fs, map[string]string{"n": "X_N"}, func(string) (string, bool) { return "seven", true })
		if err == nil || !strings.Contains(err.Error(), "X_N") {
			t.Errorf("Env with a bad value = %v, want an error naming X_N", err)
		}
	})
}

func TestLogger(t *testing.T) {
	for _, level := range []string{"debug", "info", "warn", "error", "INFO"} {
		if _, err := Logger(io.Discard, level); err != nil {
			t.Errorf("Logger(%q) = %v", level, err)
		}
	}
	if _, err := Logger(io.Discard, "loud"); err == nil {
		t.Errorf("Logger(\"loud\") succeeded, want an error")
	}
}

func TestSignalContextCancelsOnFirstSignal(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, stop := SignalContext(context.Background(), log)
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("context not cancelled 10 s after SIGTERM")
	}
	stop()
	stop() // twice is safe
}
