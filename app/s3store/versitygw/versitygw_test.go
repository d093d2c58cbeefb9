package versitygw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	tests := []struct {
		name    string
		mode    os.FileMode // of the versitygw file in $GOBIN; 0: none
		wantErr string
	}{
		{"executable in GOBIN", 0o755, ""},
		{"not executable", 0o644, Install},
		{"absent", 0, "not on PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gobin := t.TempDir()
			want := filepath.Join(gobin, "versitygw")
			if tt.mode != 0 {
				if err := os.WriteFile(want, []byte("#!/bin/sh\n"), tt.mode); err != nil {
					t.Fatal(err)
				}
			}
			// An empty PATH hides any installed versitygw, and the go command with it; so does an
			// empty GOPATH.
			t.Setenv("PATH", "")
			t.Setenv("GOBIN", gobin)
			t.Setenv("GOPATH", t.TempDir())
			got, err := Find()
			if tt.wantErr == "" && (err != nil || got != want) {
				t.Errorf("Find() = %q, %v; want %q", got, err, want)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Find() = %q, %v; want an error mentioning %q", got, err, tt.wantErr)
			}
		})
	}
}
