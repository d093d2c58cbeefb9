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
