package main

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunExitCodes(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	db := "sqlite:" + filepath.Join(t.TempDir(), "db.sqlite")
	tests := []struct {
		name    string
		args    []string
		want    int
		wantErr string
	}{
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"bad log level", []string{"-log-level", "loud"}, 2, "log level"},
		{"busy port", []string{"-addr", busy.Addr().String(), "-db", db}, 1, "address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := run(tt.args, &stderr); got != tt.want || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("run(%q) = %d, stderr %q; want %d mentioning %q", tt.args, got, stderr.String(), tt.want, tt.wantErr)
			}
		})
	}
}

// TestEveryFlagHasAnEnvironmentVariable: the README's configuration tables promise a variable for
// each flag, and a flag the env map forgets would be silently unset from the environment.
func TestEveryFlagHasAnEnvironmentVariable(t *testing.T) {
	var stderr bytes.Buffer
	run([]string{"-h"}, &stderr)
	for _, entry := range strings.Split(stderr.String(), "\n  -")[1:] {
		if !strings.Contains(entry, "[IMGCACHE_") {
			t.Errorf("flag -%s has no environment variable", strings.Fields(entry)[0])
		}
	}
}
