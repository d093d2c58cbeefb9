package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// randomKey is a fresh credential for the S3 server: 20 random bytes in hex.
func randomKey() string {
	b := make([]byte, 20)
	rand.Read(b) // never fails: crypto/rand aborts the program instead
	return hex.EncodeToString(b)
}

// FindVersitygw returns the path of the versitygw binary: on PATH, else in $GOBIN, else in
// $(go env GOPATH)/bin (by default ~/go/bin), where go install puts it.
func FindVersitygw() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	gopath := os.Getenv("GOPATH")
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gopath = strings.TrimSpace(string(out))
	}
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
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
	return "", fmt.Errorf("versitygw is not on PATH nor in %s: install it with %s, or pass -versitygw-bin: %w",
		strings.Join(dirs, ", "), VersitygwInstall, ErrBadConfig)
}

// VersitygwInstall is the command that installs the S3 server the project tests and benchmarks with.
const VersitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// startVersitygw starts the S3 server on s.s3Endpoint over a folder of its own and waits until it
// answers HTTP.
func (s *Services) startVersitygw(ctx context.Context, bin, access, secret string) error {
	root := filepath.Join(s.dir, "s3")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	// Only the S3 listener, on loopback. versitygw reads much of its configuration from VGW_* and
	// other variables: it gets none of loadgen's environment but PATH, and a HOME of its own.
	// --keep-alive because real S3 services keep connections open.
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + root}
	args := []string{"--access", access, "--secret", secret, "--port", s.s3Endpoint, "--keep-alive", "--quiet", "posix", root}
	c, err := s.startEnv("versitygw", bin, args, env)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// Any answer will do (an anonymous request gets 403): versitygw signals nothing else.
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.s3Endpoint+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("versitygw exited before it answered (%v); its log:\n%s", c.err, tail(c.log))
		case <-ctx.Done():
			return fmt.Errorf("versitygw not answering after %v: %w; its log:\n%s", s.cfg.StartTimeout, err, tail(c.log))
		case <-tick.C:
		}
	}
}
