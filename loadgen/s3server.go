package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"imgcache/loadgen/proxy"
)

// randomKey is a fresh credential for the S3 server: 20 random bytes in hex.
func randomKey() string {
	b := make([]byte, 20)
	rand.Read(b) // never fails: crypto/rand aborts the program instead
	return hex.EncodeToString(b)
}

// startS3Proxy starts the proxy of the S3 model in front of the S3 server, when there is a model,
// and returns the endpoint the backends are to use: the proxy's, or the server's own.
func (s *Services) startS3Proxy() (string, error) {
	if s.cfg.S3Model.Zero() {
		return s.s3Endpoint, nil
	}
	px, err := proxy.Start("s3", s.s3Endpoint, s.cfg.S3Model)
	if err != nil {
		return "", err
	}
	s.s3Proxy = px
	s.cfg.Logger.Info("S3 behind a network model", "model", px.Model().String(), "proxy", px.Addr())
	return px.Addr(), nil
}

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
