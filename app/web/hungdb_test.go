package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"imgcache/app/apptest"
	"imgcache/app/web"

	"github.com/go-sql-driver/mysql"

	"imgcache/app"
	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache"
)

// freezer is a TCP proxy to a database server that can stop passing bytes, as a server stopped with
// SIGSTOP would: connections stay open and nothing comes back. It stands in for stopping the shared
// MariaDB, which tests must never do.
type freezer struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	frozen bool
	closed bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target}
	f.cond = sync.NewCond(&f.mu)
	f.wg.Go(f.accept)
	t.Cleanup(f.close)
	return f
}

func (f *freezer) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", f.target)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, up)
		f.mu.Unlock()
		f.wg.Go(func() { f.pump(up, c) })
		f.wg.Go(func() { f.pump(c, up) })
	}
}

// pump copies src to dst, holding every chunk while the proxy is frozen.
func (f *freezer) pump(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f.mu.Lock()
			for f.frozen && !f.closed {
				f.cond.Wait()
			}
			closed := f.closed
			f.mu.Unlock()
			if closed {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) set(frozen bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frozen = frozen
	f.cond.Broadcast()
}

func (f *freezer) close() {
	f.mu.Lock()
	f.closed = true
	f.cond.Broadcast()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.ln.Close()
	f.wg.Wait()
}

// TestHungDatabase: with the database hung, every request that needs it answers 503 within its
// deadline instead of hanging, /healthz says so, the uploads refused meanwhile leave no object behind,
// and everything works again once it is back.
func TestHungDatabase(t *testing.T) {
	dsn := dbtest.DSN(t, database.MySQL)
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql:"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFreezer(t, cfg.Addr)
	cfg.Addr = proxy.ln.Addr().String()
	hung := "mysql:" + cfg.FormatDSN()

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mc, err := memcache.Start(context.Background(), memcache.Config{Addr: "127.0.0.1:0", DB: dsn, StatsInterval: time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	dataDir := t.TempDir()
	const deadline = time.Second
	be, err := app.Start(context.Background(), app.Config{Addr: "127.0.0.1:0", MemcacheURL: mc.URL(), DB: hung, DBTimeout: deadline,
		DataDir: dataDir, SweepGrace: time.Nanosecond, SweepInterval: -1, Logger: quiet, Pages: web.New,
		MemcacheTimeout: apptest.MemcacheTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	base := be.URL()
	if status, _ := apptest.Upload(t, base, "k", apptest.PNGImage(t, 1)); status != 200 {
		t.Fatalf("upload before the outage = %d", status)
	}
	objects := func() int {
		names, _ := filepath.Glob(filepath.Join(dataDir, "images", "*"))
		return len(names)
	}

	// A hung request fails the test through this client's timeout: the proxy stays frozen until every
	// request below has answered.
	hc := &http.Client{Timeout: 20 * time.Second}
	proxy.set(true)
	const outageUploads = 5
	for _, tt := range []struct {
		name, method, path string
		upload             bool
		json               bool
	}{
		{"list_keys", "POST", "/api/list_keys", false, true},
		{"read", "POST", "/api/key/k", false, true},
		{"keys page", "GET", "/keys_list", false, false},
		{"healthz", "GET", "/healthz", false, true},
		{"upload", "POST", "/api/upload", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := 1
			if tt.upload {
				n = outageUploads
			}
			for i := range n {
				var body *bytes.Buffer
				ct := ""
				if tt.upload {
					body, ct = apptest.MultipartBody(t, map[string]string{"key": "new" + string(rune('a'+i))}, "x.png", apptest.PNGImage(t, 10+i))
				} else {
					body = &bytes.Buffer{}
				}
				req, _ := http.NewRequest(tt.method, base+tt.path, body)
				if ct != "" {
					req.Header.Set("Content-Type", ct)
				}
				start := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatalf("%s during the outage: %v", tt.name, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("%s answered %d after %v", tt.name, resp.StatusCode, time.Since(start).Round(time.Millisecond))
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("%s during the outage = %d, want 503: %.200s", tt.name, resp.StatusCode, b)
				}
				if tt.json && !bytes.Contains(b, []byte(`"success":"false"`)) {
					t.Errorf("%s: %.200s is not the failure shape", tt.name, b)
				}
			}
		})
	}
	// Each refused upload failed before its COMMIT was sent (BEGIN or INSERT timed out), so it rolled
	// back for certain and its object is gone: no orphan, even before a sweep.
	if got := objects(); got != 1 {
		t.Errorf("%d objects during the outage, want 1: %d refused uploads left orphans", got, got-1)
	}

	proxy.set(false)
	// The pool's connections that timed out are closed; new ones go through. Poll, with a deadline.
	var status int
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); {
		if status, _ = apptest.Call(t, "POST", base+"/api/list_keys", "", nil); status == 200 {
			break
		}
	}
	if status != 200 {
		t.Fatalf("list_keys after the outage = %d, want 200", status)
	}
	if removed, err := be.Sweep(context.Background()); err != nil || removed != 0 {
		t.Errorf("Sweep after the outage = %d, %v; want 0, nil", removed, err)
	}
	if status, _ := apptest.ReadKey(t, base, "k"); status != 200 {
		t.Errorf("read after the outage = %d", status)
	}
	if r := apptest.Request(t, "GET", base+"/healthz", "", nil); r.Status != 200 {
		t.Errorf("/healthz after the outage = %d", r.Status)
	}
}
