// Package versitygw finds the versitygw S3 server that the project's tests and benchmarks run.
package versitygw

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Version is the versitygw release the project tests and benchmarks with; Install installs it.
const (
	Version = "v1.8.0"
	Install = "go install github.com/versity/versitygw/cmd/versitygw@" + Version
)

// Find returns the path of the versitygw binary: on PATH, else in $GOBIN, else in
// $(go env GOPATH)/bin (by default ~/go/bin), where go install puts it.
func Find() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	// go env knows a GOPATH set by go env -w as well as the default. The go command may not be on
	// PATH; then GOPATH, or its default ~/go, will do.
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) == 2 {
			if lines[0] != "" {
				dirs = append(dirs, lines[0])
			}
			gopath = lines[1]
		}
	}
	for _, p := range filepath.SplitList(gopath) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw is not on PATH, in $GOBIN or in $(go env GOPATH)/bin (looked in %s); install it with %s",
		strings.Join(dirs, ", "), Install)
}

// BinaryVersion returns the module version a Go binary was built from, as `go version -m` shows it.
func BinaryVersion(path string) (string, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the build information of %s: %w", path, err)
	}
	return info.Main.Version, nil
}
