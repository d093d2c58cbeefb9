package app_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"imgcache/app/api"
	"imgcache/app/apptest"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// EnvRequireNetns set to 1 turns the multi-host test's skip into a failure.
const EnvRequireNetns = "IMGCACHE_REQUIRE_NETNS"

// netLab is a bridge in the root namespace with network namespaces on it, one host each, all made
// by the test and removed when it ends. Addresses are 10.231.N.0/24 with N chosen at random, on the
// test's own bridge: the root namespace holds .1.
type netLab struct {
	t      *testing.T
	prefix string // of every name: namespaces, bridge, veths
	subnet string // "10.231.N."
	bridge string
	hosts  map[string]string // namespace -> its veth's root-side name
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// newNetLab makes the bridge, or skips when this is not root with ip netns.
func newNetLab(t *testing.T) *netLab {
	t.Helper()
	skip := func(why string) {
		if os.Getenv(EnvRequireNetns) == "1" {
			t.Fatalf("%s, and %s=1", why, EnvRequireNetns)
		}
		t.Skipf("%s: the multi-host test needs root and ip netns (set %s=1 to fail instead)", why, EnvRequireNetns)
	}
	if os.Geteuid() != 0 {
		skip("not root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skip("no ip command")
	}
	var b [3]byte
	rand.Read(b[:])
	l := &netLab{t: t, prefix: fmt.Sprintf("ic%04x", binary.BigEndian.Uint16(b[:2])), hosts: map[string]string{}}
	l.subnet = fmt.Sprintf("10.231.%d.", 1+int(b[2])%254)
	l.bridge = l.prefix + "br"
	if err := ipCmd("netns", "list"); err != nil {
		skip("ip netns does not work: " + err.Error())
	}
	t.Cleanup(l.close)
	for _, args := range [][]string{
		{"link", "add", l.bridge, "type", "bridge"},
		{"addr", "add", l.subnet + "1/24", "dev", l.bridge},
		{"link", "set", l.bridge, "up"},
	} {
		if err := ipCmd(args...); err != nil {
			skip("cannot make a bridge: " + err.Error())
		}
	}
	return l
}

// host makes namespace name with address subnet+octet on the bridge and returns the address.
func (l *netLab) host(name string, octet int) string {
	l.t.Helper()
	ns, veth := l.prefix+name, l.prefix+name+"v"
	l.hosts[ns] = veth
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", veth, "master", l.bridge},
		{"link", "set", veth, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "addr", "add", fmt.Sprintf("%s%d/24", l.subnet, octet), "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
	} {
		if err := ipCmd(args...); err != nil {
			l.t.Fatal(err)
		}
	}
	return fmt.Sprintf("%s%d", l.subnet, octet)
}

// wrap is the command that runs a program in namespace name.
func (l *netLab) wrap(name string) []string { return []string{"ip", "netns", "exec", l.prefix + name} }

// link sets the root side of name's link up or down: down cuts the host off the bridge.
func (l *netLab) link(name string, up bool) {
	l.t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	if err := ipCmd("link", "set", l.prefix+name+"v", state); err != nil {
		l.t.Error(err)
	}
}

// close removes every namespace (and with it its veth pair) and the bridge. The processes in them
// are killed by their own cleanups, which run first (registered later).
func (l *netLab) close() {
	for ns := range l.hosts {
		if err := ipCmd("netns", "del", ns); err != nil {
			l.t.Log(err)
		}
	}
	if err := ipCmd("link", "del", l.bridge); err != nil {
		l.t.Log(err)
	}
}

// tcpRelay accepts on addr and copies each connection to target, until the test ends.
func tcpRelay(t *testing.T, addr, target string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Go(func() { io.Copy(up, c); up.Close() })
			wg.Go(func() { io.Copy(c, up); c.Close() })
		}
	})
	return ln.Addr().String()
}

// healthRouter sends each request to a backend whose /healthz answered 200 at its last poll, in
// turn, polling every 200 ms, as a load balancer does.
type healthRouter struct {
	urls    []string
	healthy []atomic.Bool
	next    atomic.Uint64
	changed []atomic.Int64 // unix nanos of the last change of each backend's health
	resent  atomic.Int64   // requests sent again after a refused connection
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newHealthRouter(urls []string) *healthRouter {
	r := &healthRouter{urls: urls, healthy: make([]atomic.Bool, len(urls)), changed: make([]atomic.Int64, len(urls)), stop: make(chan struct{})}
	hc := &http.Client{Timeout: time.Second}
	poll := func(i int) {
		ok := false
		if resp, err := hc.Get(urls[i] + api.PathHealth); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok = resp.StatusCode == http.StatusOK
		}
		if r.healthy[i].Swap(ok) != ok {
			r.changed[i].Store(time.Now().UnixNano())
		}
	}
	for i := range urls {
		poll(i)
	}
	r.wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
			for i := range urls {
				poll(i)
			}
		}
	})
	return r
}

func (r *healthRouter) pick() string {
	for range len(r.urls) {
		i := int(r.next.Add(1) % uint64(len(r.urls)))
		if r.healthy[i].Load() {
			return r.urls[i]
		}
	}
	return r.urls[int(r.next.Load()%uint64(len(r.urls)))] // none healthy: a request fails
}

// send sends the request build makes for a backend, as a load balancer does: a request whose
// connection was refused never reached a server (a backend that closed its listener between two
// health polls, or a client that picked a backend long before it dialled on a busy machine), so it
// goes once more to the next healthy backend. Any other failure is the request's.
func (r *healthRouter) send(hc *http.Client, build func(base string) *http.Request) (*http.Response, error) {
	resp, err := hc.Do(build(r.pick()))
	var op *net.OpError
	if err != nil && errors.As(err, &op) && op.Op == "dial" {
		r.resent.Add(1)
		resp, err = hc.Do(build(r.pick()))
	}
	return resp, err
}

func (r *healthRouter) close() {
	close(r.stop)
	r.wg.Wait()
}

// labLoad is what a phase of the bounded 80:20 load measured.
type labLoad struct {
	readPhase
	writes, writeFailed, stale int
	firstErr                   string
}

// runLabLoad runs workers doing 80% reads and 20% uploads of keys through r for d. Each key's
// uploads are one at a time, each a new version; a read that starts after version v was
// acknowledged and returns an older one is stale.
func runLabLoad(t *testing.T, r *healthRouter, keys []string, floors []atomic.Int64, locks []sync.Mutex, images [][]byte, d time.Duration) labLoad {
	t.Helper()
	var mu sync.Mutex
	var out labLoad
	hc := &http.Client{Timeout: 20 * time.Second}
	fail := func(msg string) {
		if out.firstErr == "" {
			out.firstErr = msg
		}
	}
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for n := 0; time.Now().Before(end); n++ {
				i := (n*7 + w*3) % len(keys)
				if (n+w)%5 == 0 { // a write
					if !locks[i].TryLock() {
						continue
					}
					v := int(floors[i].Load()) + 1
					if v >= len(images) {
						locks[i].Unlock()
						continue
					}
					var body bytes.Buffer
					mw := multipart.NewWriter(&body)
					mw.WriteField(api.FieldKey, keys[i])
					mw.WriteField(api.FormTokenField, apptest.Token)
					fw, _ := mw.CreateFormFile(api.FieldFile, "x.png")
					fw.Write(images[v])
					mw.Close()
					resp, err := r.send(hc, func(base string) *http.Request {
						req, _ := http.NewRequest(http.MethodPost, base+api.PathUpload, bytes.NewReader(body.Bytes()))
						req.Header.Set("Content-Type", mw.FormDataContentType())
						return req
					})
					ok := err == nil && resp.StatusCode == 200
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					if ok {
						floors[i].Store(int64(v))
					}
					locks[i].Unlock()
					mu.Lock()
					out.writes++
					if !ok {
						out.writeFailed++
						fail(fmt.Sprintf("upload %s: %v %v", keys[i], err, resp))
					}
					mu.Unlock()
					continue
				}
				floor := floors[i].Load()
				start := time.Now()
				resp, err := r.send(hc, func(base string) *http.Request {
					req, _ := http.NewRequest(http.MethodPost, base+"/api/key/"+keys[i], nil)
					return req
				})
				var a apptest.APIAnswer
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					ok = ok && json.NewDecoder(resp.Body).Decode(&a) == nil
					resp.Body.Close()
				}
				took := time.Since(start)
				stale := false
				if ok {
					data, _ := base64.StdEncoding.DecodeString(a.Content)
					stale = int64(apptest.PNGVersion(t, data)) < floor
				}
				mu.Lock()
				if ok {
					out.lat = append(out.lat, took)
				} else {
					out.failed++
					fail(fmt.Sprintf("read %s: %v %v", keys[i], err, resp))
				}
				if stale {
					out.stale++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(out.lat)
	return out
}

// TestMultiHostFaults places 2 backends and 3 memcache nodes each in a network namespace of its own
// on a bridge, MariaDB behind a relay on the bridge, and runs a bounded 80:20 load through a client
// that routes by /healthz, while it cuts a node's link, stops a node, kills a node and restarts both
// backends one after the other. Per fault: no request fails, no read is stale, reads hit the cache.
func TestMultiHostFaults(t *testing.T) {
	began := time.Now()
	lab := newNetLab(t)
	dsn := dbtest.DSN(t, database.MySQL)
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql:"))
	if err != nil {
		t.Fatal(err)
	}
	apptest.OpenDB(t, dsn) // the schema, before the services start
	cfg.Addr = tcpRelay(t, lab.subnet+"1:0", cfg.Addr)
	labDSN := "mysql:" + cfg.FormatDSN()

	const secret = "netns-secret"
	var nodes []*proc
	for i := range 3 {
		name := fmt.Sprint("m", i+1)
		addr := lab.host(name, 20+i)
		nodes = append(nodes, startProcAt(t, "memcache", addr+":5001", lab.wrap(name),
			"IMGCACHE_DB="+labDSN, "IMGCACHE_MEMCACHE_SECRET="+secret))
	}
	data := t.TempDir() // one image folder: the backends' hosts share the file system
	var backends []*proc
	var urls []string
	for i := range 2 {
		name := fmt.Sprint("b", i+1)
		addr := lab.host(name, 10+i)
		backends = append(backends, startProcAt(t, "backend", addr+":5000", lab.wrap(name),
			"IMGCACHE_DB="+labDSN, "IMGCACHE_DATA="+data, "IMGCACHE_MEMCACHE_URL="+nodes[0].url(),
			"IMGCACHE_MEMCACHE_SECRET="+secret, "IMGCACHE_MEMCACHE_TIMEOUT=100ms", "IMGCACHE_DRAIN=1500ms"))
		urls = append(urls, backends[i].url())
	}
	for _, u := range urls {
		for end := time.Now().Add(30 * time.Second); poolRouted(t, u) != 3; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("%s routes to %d nodes after 30 s, want 3", u, poolRouted(t, u))
			}
		}
	}
	router := newHealthRouter(urls)
	defer router.close()

	keys := make([]string, 12)
	const versions = 400
	images := make([][]byte, versions)
	for v := range images {
		images[v] = apptest.PNGImage(t, v)
	}
	floors := make([]atomic.Int64, len(keys))
	locks := make([]sync.Mutex, len(keys))
	for i := range keys {
		keys[i] = fmt.Sprint("img", i)
		if status, _ := apptest.Upload(t, urls[0], keys[i], images[0]); status != 200 {
			t.Fatalf("seed upload = %d", status)
		}
	}
	// Cache reads by backend; a restarted backend counts from zero again.
	counts := func() []int64 { return []int64{cacheReads(t, urls[0]), cacheReads(t, urls[1])} }
	since := func(before []int64) int64 {
		var n int64
		for i, c := range counts() {
			if c >= before[i] {
				n += c - before[i]
			} else {
				n += c
			}
		}
		return n
	}
	// settled waits until both backends route to all three nodes with every breaker closed, so that
	// each fault starts from a whole pool.
	settled := func() {
		t.Helper()
		for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			whole := true
			for _, u := range urls {
				if poolRouted(t, u) != 3 {
					whole = false
				}
				for _, s := range breakerStates(t, u) {
					if s != "0" {
						whole = false
					}
				}
			}
			if whole {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("the pool is not whole again 30 s after a fault")
			}
		}
	}
	t.Logf("setup took %v", time.Since(began).Round(time.Millisecond))

	type fault struct {
		name   string
		start  func()
		undo   func()
		seenBy func() bool // routing changed
	}
	// ejected: a backend's breaker ejected the node, or its heartbeat lapsed and the ring dropped it.
	ejected := func(p *proc) func() bool {
		return func() bool {
			id, routed := nodeRouted(urls[0], p.url())
			state := breakerStates(t, urls[0])[id]
			return state == "1" || state == "2" || !routed
		}
	}
	faults := []fault{
		{"none", func() {}, func() {}, func() bool { return true }},
		{"link of node 1 cut", func() { lab.link("m1", false) }, func() { lab.link("m1", true) }, ejected(nodes[0])},
		{"node 2 SIGSTOPped", func() { nodes[1].signal(syscall.SIGSTOP) }, func() { nodes[1].signal(syscall.SIGCONT) }, ejected(nodes[1])},
		{"node 3 killed (-9)", func() { nodes[2].signal(syscall.SIGKILL); nodes[2].wait() }, func() { nodes[2].restart() }, ejected(nodes[2])},
	}
	for _, f := range faults {
		settled()
		before := counts()
		var seen atomic.Int64
		start := time.Now()
		f.start()
		watch := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				if f.seenBy() {
					seen.Store(int64(time.Since(start)))
					return
				}
				select {
				case <-watch:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
		got := runLabLoad(t, router, keys, floors, locks, images, 4*time.Second)
		close(watch)
		wg.Wait()
		f.undo()
		h := since(before)
		t.Logf("%-20s %v; %d writes (%d failed); %d stale; %d cache reads; routing changed after %v",
			f.name, got.readPhase, got.writes, got.writeFailed, got.stale, h, time.Duration(seen.Load()).Round(time.Millisecond))
		checkLabPhase(t, f.name, got, h, f.name == "none" || seen.Load() > 0)
	}

	// Rolling restart: each backend in turn drains (the router stops sending to it), stops, and
	// starts again, while the load runs.
	settled()
	before := counts()
	done := make(chan labLoad, 1)
	go func() { done <- runLabLoad(t, router, keys, floors, locks, images, 8*time.Second) }()
	var switched []time.Duration
	for i, b := range backends {
		start := time.Now()
		b.signal(syscall.SIGTERM)
		for router.healthy[i].Load() && time.Since(start) < 10*time.Second {
			time.Sleep(20 * time.Millisecond)
		}
		switched = append(switched, time.Since(start).Round(time.Millisecond))
		b.restart()
		for !router.healthy[i].Load() && time.Since(start) < 30*time.Second {
			time.Sleep(20 * time.Millisecond)
		}
	}
	got := <-done
	h := since(before)
	t.Logf("%-20s %v; %d writes (%d failed); %d stale; %d cache reads; the router left each backend after %v",
		"rolling restart", got.readPhase, got.writes, got.writeFailed, got.stale, h, switched)
	checkLabPhase(t, "rolling restart", got, h, len(switched) == 2 && switched[0] < 10*time.Second && switched[1] < 10*time.Second)
	t.Logf("requests sent again after a refused connection, as a load balancer does: %d", router.resent.Load())
	t.Logf("the multi-host test took %v", time.Since(began).Round(time.Millisecond))
}

func checkLabPhase(t *testing.T, name string, got labLoad, hits int64, routed bool) {
	t.Helper()
	if got.failed+got.writeFailed > 0 {
		t.Errorf("%s: %d reads and %d uploads failed, want none; first: %s", name, got.failed, got.writeFailed, got.firstErr)
	}
	if got.stale > 0 {
		t.Errorf("%s: %d stale reads", name, got.stale)
	}
	if hits == 0 || hits*50 < int64(len(got.lat)) {
		t.Errorf("%s: only %d of %d reads hit the cache: the phase proves nothing about it", name, hits, len(got.lat))
	}
	if len(got.lat) < 50 {
		t.Errorf("%s: only %d reads", name, len(got.lat))
	}
	// No read waits for the old 2 s client timeout; the bound leaves room for a busy machine.
	if p99 := got.pct(0.99); p99 > 2*time.Second {
		t.Errorf("%s: read p99 %v, want under 2 s", name, p99)
	}
	if !routed {
		t.Errorf("%s: routing never changed", name)
	}
}

// poolRouted is how many memcache nodes the backend at base routes to, from GET /api/pool.
func poolRouted(t *testing.T, base string) int {
	var p api.Pool
	resp, err := http.Get(base + api.PathPool)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if json.NewDecoder(resp.Body).Decode(&p) != nil {
		return -1
	}
	return p.Routed
}

// nodeRouted is the id of the node at url and whether the backend at base routes to it, from its
// GET /api/pool.
func nodeRouted(base, url string) (string, bool) {
	var p api.Pool
	resp, err := http.Get(base + api.PathPool)
	if err != nil {
		return "", true
	}
	defer resp.Body.Close()
	if json.NewDecoder(resp.Body).Decode(&p) != nil {
		return "", true
	}
	for _, n := range p.Nodes {
		if n.Address == url {
			return fmt.Sprint(n.ID), n.Routed
		}
	}
	return "", true
}
