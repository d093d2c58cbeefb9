// Package s3test runs a real S3 server for tests: versitygw over a temporary folder, on a free loopback port.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"imgcache/app/s3store"
	"imgcache/app/s3store/versitygw"
)

// Settings of the server and of how tests find it.
const (
	// EnvRequire set to 1 turns a missing versitygw into a failure instead of a skip (CI sets it).
	EnvRequire = "IMGCACHE_REQUIRE_S3"
	// AccessKey and SecretKey are the root credentials of every test server.
	AccessKey = "imgcache-test"
	SecretKey = "imgcache-test-secret"
	// BucketPrefix starts the name of every bucket NewBucket makes up.
	BucketPrefix = "imgcache-test-"
)

const (
	// startTimeout bounds the wait for a new server to answer; it starts in well under a second, but
	// the machine may be busy.
	startTimeout = 30 * time.Second
	// stopTimeout is how long a server has to stop after SIGTERM before it is killed.
	stopTimeout = 5 * time.Second
	// portTries bounds the retries when another process takes the free port first.
	portTries = 5
)

// Server is a running versitygw serving the posix backend over a folder of its own.
type Server struct {
	Endpoint string // HOST:PORT, on 127.0.0.1
	Dir      string // the posix root: a folder per bucket, a file per object

	proc   *exec.Cmd
	exited chan struct{} // closed when the process has been waited for
	log    string        // its output
}

// Start runs a versitygw for the test, listening on 127.0.0.1 only, over a folder under tb.TempDir(),
// and stops it when the test ends. Without the binary the test is skipped, or fails when EnvRequire
// is 1.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := versitygw.Find()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("s3test: %v (and %s=1)", err, EnvRequire)
		}
		tb.Skipf("s3test: skipping: %v; set %s=1 to fail instead", err, EnvRequire)
	}
	if v, err := versitygw.BinaryVersion(bin); err != nil || v != versitygw.Version {
		tb.Logf("s3test: %s is versitygw %q, not %s (%v): its behaviour may differ", bin, v, versitygw.Version, err)
	}
	for try := 1; ; try++ {
		s, err := start(bin, tb.TempDir())
		if err == nil {
			tb.Cleanup(s.stop)
			return s
		}
		if !errors.Is(err, errExited) || try == portTries {
			tb.Fatalf("s3test: %v", err)
		}
		// Most likely another process took the port between our probe and versitygw's bind.
	}
}

// errExited: the server process ended before it answered.
var errExited = errors.New("versitygw exited before it answered")

// start runs one server in dir on a free port and waits until it answers.
func start(bin, dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Endpoint: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Dir:      filepath.Join(dir, "root"),
		exited:   make(chan struct{}),
		log:      filepath.Join(dir, "versitygw.log"),
	}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	// Only the S3 listener, on loopback: no admin port, web UI or website listener. --keep-alive
	// because every real S3 service keeps connections open, and the bench compares against one.
	s.proc = exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--port", s.Endpoint,
		"--keep-alive", "--quiet", "posix", s.Dir)
	s.proc.Dir = dir
	// versitygw reads much of its configuration from VGW_* and other variables (listeners, IAM,
	// webhooks): start it with none of the caller's environment.
	s.proc.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	s.proc.Stdout, s.proc.Stderr = logFile, logFile
	if err := s.proc.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		s.proc.Wait()
		close(s.exited)
	}()
	if err := s.waitUp(); err != nil {
		s.stop()
		out, _ := os.ReadFile(s.log)
		return nil, fmt.Errorf("%w: %s; its output:\n%s", err, s.Endpoint, out)
	}
	return s, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitUp polls the server until it answers an HTTP request (an anonymous one: it answers 403), the
// process exits, or startTimeout passes. Polling is the only way: versitygw signals nothing.
func (s *Server) waitUp() error {
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get("http://" + s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw did not answer within %v: %w", startTimeout, err)
		}
		select {
		case <-s.exited:
			return errExited
		case <-tick.C:
		}
	}
}

// stop ends the server: SIGTERM, then SIGKILL if it has not exited within stopTimeout.
func (s *Server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.proc.Process.Kill()
		<-s.exited
	}
}

// Config returns the s3store configuration of bucket on this server.
func (s *Server) Config(bucket string) s3store.Config {
	return s3store.Config{Bucket: bucket, Endpoint: s.Endpoint, Region: "us-east-1", AccessKey: AccessKey, SecretKey: SecretKey}
}

// Spec returns the -storage value of bucket on this server (credentials go separately).
func (s *Server) Spec(bucket string) string {
	return "s3://" + bucket + "?endpoint=http://" + s.Endpoint + "&region=us-east-1"
}

// Open opens an s3store.Store on bucket, creating the bucket, and closes it when the test ends.
func (s *Server) Open(tb testing.TB, bucket string) *s3store.Store {
	tb.Helper()
	st, err := s3store.Open(context.Background(), s.Config(bucket))
	if err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// Client returns a plain minio-go client of the server, to look at or change a bucket behind a
// store's back.
func (s *Server) Client(tb testing.TB) *minio.Client {
	tb.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(AccessKey, SecretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		tb.Fatalf("s3test: client: %v", err)
	}
	return c
}

// Keys returns the key of every object in bucket, sorted, whatever its name.
func (s *Server) Keys(tb testing.TB, bucket string) []string {
	tb.Helper()
	var keys []string
	for o := range s.Client(tb).ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			tb.Fatalf("s3test: list %s: %v", bucket, o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

// NewBucket returns a bucket name no test has used: BucketPrefix and 12 random hex digits.
func NewBucket() string {
	b := make([]byte, 6)
	rand.Read(b) // never fails
	return BucketPrefix + hex.EncodeToString(b)
}
