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
		{"sweep grace too short", []string{"-sweep-grace", "10s"}, 2, "too short"},
		{"busy port", []string{"-addr", busy.Addr().String(), "-db", db, "-data", t.TempDir()}, 1, "address already in use"},
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

func TestRunStorage(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nothing := closed.Addr().String() // nothing listens here once it is closed
	closed.Close()
	db := "sqlite:" + filepath.Join(t.TempDir(), "db.sqlite")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    int
		wantErr string
	}{
		{"bad spec", []string{"-storage", "/srv/images"}, nil, 2, "want file:DIR or s3://"},
		{"bad spec from the environment", nil, map[string]string{"IMGCACHE_STORAGE": "s3://images"}, 2, "endpoint is missing"},
		{"flag over a bad environment", []string{"-storage", "file:"}, map[string]string{"IMGCACHE_STORAGE": "file:x"}, 2, "names no folder"},
		{"s3 without credentials", []string{"-storage", "s3://images?endpoint=http://" + nothing}, nil, 2, "AWS_ACCESS_KEY_ID"},
		{"s3 with half the credentials", []string{"-storage", "s3://images?endpoint=http://" + nothing},
			map[string]string{"AWS_ACCESS_KEY_ID": "a"}, 2, "AWS_SECRET_ACCESS_KEY"},
		{"s3 store unreachable", []string{"-storage", "s3://images?endpoint=http://" + nothing + "&region=us-east-1", "-db", db, "-addr", "127.0.0.1:0"},
			map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}, 1, "image storage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []string{"IMGCACHE_STORAGE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
				t.Setenv(v, tt.env[v]) // empty counts as unset
			}
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
