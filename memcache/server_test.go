package memcache_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"imgcache/memcache/wire"

	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache"
	"imgcache/memcache/cache"
	"imgcache/memcache/client"
)

func startServer(t *testing.T, dsn string, mutate func(*memcache.Config)) *memcache.Server {
	t.Helper()
	cfg := memcache.Config{
		Addr:          "127.0.0.1:0",
		DB:            dsn,
		StatsInterval: time.Hour, // rows come from Close in these tests
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Seed:          1,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := memcache.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newClient is the typed client of s, closed with the test.
func newClient(t *testing.T, s *memcache.Server) *client.Client {
	t.Helper()
	c, err := client.New(s.URL(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

type answer struct {
	status int
	body   map[string]any
	header http.Header
}

// post sends body to path with net/http, a client independent of the code under test.
func post(t *testing.T, s *memcache.Server, method, path, contentType, body string) answer {
	t.Helper()
	return send(t, s, method, path, contentType, body, nil)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// checkFailure asserts the failure shape with the HTTP status repeated as code.
func checkFailure(t *testing.T, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Errorf("status = %d, want %d (body %v)", a.status, want, a.body)
	}
	if a.body["success"] != "false" {
		t.Errorf("success = %v, want \"false\"", a.body["success"])
	}
	e, _ := a.body["error"].(map[string]any)
	if code, _ := e["code"].(float64); int(code) != want {
		t.Errorf("error.code = %v, want %d", e["code"], want)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("error.message is empty")
	}
}

func TestJSONEndpoints(t *testing.T) {
	s := startServer(t, dbtest.DSN(t, database.SQLite), nil)
	value := b64("png bytes")

	a := post(t, s, "POST", "/get_from_memcache", "application/json", `{"key":"cat"}`)
	checkFailure(t, a, 404)
	lease, _ := a.body["lease"].(float64)
	if lease == 0 {
		t.Fatalf("miss gave no lease: %v", a.body)
	}
	if got := a.header.Get("X-Lease"); got == "" {
		t.Errorf("miss has no X-Lease header")
	}

	a = post(t, s, "POST", "/put_into_memcache", "application/json", `{"key":"cat","value":"`+value+`"}`)
	if a.status != 200 || a.body["success"] != "true" {
		t.Fatalf("put = %d %v, want 200 success", a.status, a.body)
	}
	a = post(t, s, "POST", "/get_from_memcache", "application/json", `{"key":"cat"}`)
	if a.status != 200 || a.body["value"] != value || a.body["key"] != "cat" {
		t.Errorf("get = %d %v, want 200 with value %q", a.status, a.body, value)
	}

	// The plain put above revoked the miss's lease, so a fill with it is refused (409).
	a = post(t, s, "POST", "/put_into_memcache", "application/json", `{"key":"cat","value":"`+b64("old")+`","lease":`+jsonNum(lease)+`}`)
	checkFailure(t, a, 409)

	a = post(t, s, "POST", "/invalidate_specific_key", "application/json", `{"key":"cat"}`)
	if a.status != 200 || a.body["removed"] != true {
		t.Errorf("invalidate = %d %v, want 200 removed", a.status, a.body)
	}
	checkFailure(t, post(t, s, "POST", "/get_from_memcache", "application/json", `{"key":"cat"}`), 404)

	post(t, s, "POST", "/put_into_memcache", "application/json", `{"key":"dog","value":"`+value+`"}`)
	if a := post(t, s, "POST", "/clear_cache", "", ""); a.status != 200 {
		t.Errorf("clear = %d %v", a.status, a.body)
	}
	a = post(t, s, "GET", "/stats", "", "")
	if a.status != 200 || a.body["items"] != float64(0) || a.body["policy"] != "Least Recently Used" {
		t.Errorf("stats after clear = %d %v, want 0 items, LRU", a.status, a.body)
	}
	if got := a.body["capacity_mb"]; got != float64(wire.DefaultCapacityMB) {
		t.Errorf("capacity_mb = %v, want %d", got, wire.DefaultCapacityMB)
	}
	if a := post(t, s, "GET", "/healthz", "", ""); a.status != 200 || a.body["success"] != "true" {
		t.Errorf("healthz = %d %v", a.status, a.body)
	}
}

func jsonNum(f float64) string { b, _ := json.Marshal(uint64(f)); return string(b) }

func TestBadRequests(t *testing.T) {
	s := startServer(t, dbtest.DSN(t, database.SQLite), func(c *memcache.Config) { c.MaxBodySize = 1 << 10 })
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"unknown path", "POST", "/nope", "", 404},
		{"wrong method on get", "GET", "/get_from_memcache", "", 405},
		{"wrong method on stats", "POST", "/stats", "", 405},
		{"empty body", "POST", "/get_from_memcache", "", 400},
		{"malformed JSON", "POST", "/get_from_memcache", `{"key":`, 400},
		{"missing key", "POST", "/get_from_memcache", `{}`, 400},
		{"empty key", "POST", "/put_into_memcache", `{"key":"","value":"QQ=="}`, 400},
		{"key not a string", "POST", "/get_from_memcache", `{"key":5}`, 400},
		{"missing value", "POST", "/put_into_memcache", `{"key":"a"}`, 400},
		{"value not base64", "POST", "/put_into_memcache", `{"key":"a","value":"not base64!"}`, 400},
		{"value not a string", "POST", "/put_into_memcache", `{"key":"a","value":[1]}`, 400},
		{"lease not a number", "POST", "/put_into_memcache", `{"key":"a","value":"QQ==","lease":"x"}`, 400},
		{"raw lease not a number", "POST", "/put_into_memcache?key=a&lease=x", "QQ==", 400},
		{"body over the limit", "POST", "/put_into_memcache", `{"key":"a","value":"` + strings.Repeat("QUFB", 1<<10) + `"}`, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFailure(t, post(t, s, tt.method, tt.path, "application/json", tt.body), tt.want)
		})
	}
	// Nothing above stored anything.
	if a := post(t, s, "GET", "/stats", "", ""); a.body["items"] != float64(0) || a.body["puts"] != float64(0) {
		t.Errorf("after bad requests: %v, want nothing stored", a.body)
	}
}

func TestClientRoundTrip(t *testing.T) {
	s := startServer(t, dbtest.DSN(t, database.SQLite), nil)
	c := newClient(t, s)
	ctx := context.Background()
	key := "a key/with spaces?&=é"
	value := []byte(b64(strings.Repeat("x", 15<<10)))

	_, lease, err := c.Get(ctx, key)
	if !errors.Is(err, wire.ErrMiss) || lease == 0 {
		t.Fatalf("Get on empty cache = lease %d, %v; want a lease and ErrMiss", lease, err)
	}
	if err := c.Fill(ctx, key, value, lease); err != nil {
		t.Fatalf("Fill with a fresh lease: %v", err)
	}
	got, _, err := c.Get(ctx, key)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Get after Fill = %d bytes, %v; want %d bytes", len(got), err, len(value))
	}

	// The stale-fill race: a miss, then an invalidation, then the fill of the old bytes.
	if err := c.Invalidate(ctx, key); err != nil {
		t.Fatal(err)
	}
	_, lease, _ = c.Get(ctx, key)
	if err := c.Invalidate(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := c.Fill(ctx, key, value, lease); !errors.Is(err, wire.ErrLeaseRevoked) {
		t.Errorf("Fill after Invalidate = %v, want ErrLeaseRevoked", err)
	}
	if _, _, err := c.Get(ctx, key); !errors.Is(err, wire.ErrMiss) {
		t.Errorf("Get after refused fill = %v, want ErrMiss", err)
	}

	if err := c.Put(ctx, key, value); err != nil {
		t.Fatal(err)
	}
	if err := c.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Items != 0 || st.Hits != 1 || st.Misses != 3 || st.Gets != 4 {
		t.Errorf("Stats = %+v, want 0 items, 4 gets, 1 hit, 3 misses", st)
	}
	if err := c.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	if err := c.Put(ctx, key, []byte("not base64!")); err == nil {
		t.Errorf("Put of invalid base64 succeeded, want an error")
	}
}

func TestRefreshConfiguration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn, nil)
		c := newClient(t, s)
		ctx := context.Background()
		big := []byte(b64(strings.Repeat("v", 600<<10))) // 800 KiB of base64
		for _, k := range []string{"a", "b", "c"} {
			if err := c.Put(ctx, k, big); err != nil {
				t.Fatal(err)
			}
		}
		db, err := database.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.InsertCacheProperties(ctx, database.CacheProperties{MaxCapacityMB: 1, Policy: "Random Replacement"}); err != nil {
			t.Fatal(err)
		}
		if err := c.Refresh(ctx); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		st, err := c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Policy != "Random Replacement" || st.Capacity != cache.MB || st.Items != 1 || st.Bytes > cache.MB {
			t.Errorf("after refresh: %+v; want Random Replacement, 1 MB, 1 item left", st)
		}
		// A row the cache cannot apply is refused with 503 and leaves the configuration in force.
		if _, err := db.InsertCacheProperties(ctx, database.CacheProperties{MaxCapacityMB: 5, Policy: "Most Recently Used"}); err != nil {
			t.Fatal(err)
		}
		if err := c.Refresh(ctx); err == nil {
			t.Errorf("Refresh with an unknown policy succeeded, want an error")
		}
		if st, _ := c.Stats(ctx); st.Capacity != cache.MB {
			t.Errorf("capacity after a refused refresh = %d, want %d", st.Capacity, cache.MB)
		}
	})
}

func TestStatsRowsAndShutdown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn, nil)
		c := newClient(t, s)
		ctx := context.Background()
		c.Put(ctx, "k", []byte(b64("v")))
		c.Get(ctx, "k")
		c.Get(ctx, "missing")
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		db, err := database.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.StatsSince(ctx, time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("got %d stats rows after shutdown, want 1: %+v", len(rows), rows)
		}
		// The node registered in the pool's table at start, so its rows carry its id.
		want := database.StatsRow{CacheSize: int64(len("k") + len(b64("v"))), KeyCount: 1, RequestCount: 2, HitCount: 1, MissCount: 1, NodeID: 1}
		got := rows[0]
		got.ID, got.CreatedAt = 0, time.Time{}
		if got != want {
			t.Errorf("row = %+v, want %+v", got, want)
		}
	})
}

func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = memcache.Start(context.Background(), memcache.Config{Addr: ln.Addr().String(), DB: dbtest.DSN(t, database.SQLite),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Fatalf("Start on a busy port succeeded, want an error")
	}
}

func TestMetrics(t *testing.T) {
	s := startServer(t, dbtest.DSN(t, database.SQLite), nil)
	post(t, s, "POST", "/put_into_memcache", "application/json", `{"key":"a","value":"QUFB"}`)
	post(t, s, "POST", "/get_from_memcache", "application/json", `{"key":"a"}`)
	post(t, s, "POST", "/get_from_memcache", "application/json", `{"key":"b"}`)
	post(t, s, "POST", "/no/such/path", "", "")
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`imgcache_cache_items 1`,
		`imgcache_cache_hits_total 1`,
		`imgcache_cache_misses_total 1`,
		`imgcache_cache_capacity_bytes{policy="Least Recently Used"} 1.048576e+07`,
		`imgcache_http_requests_total{route="/get_from_memcache",service="memcache",status="200"} 1`,
		`imgcache_http_requests_total{route="/get_from_memcache",service="memcache",status="404"} 1`,
		`imgcache_http_requests_total{route="other",service="memcache",status="404"} 1`,
		`imgcache_database_errors_total{service="memcache"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestDatabaseDownAtStart(t *testing.T) {
	// Nothing listens on port 1: the MySQL server is unreachable, and the cache serves all the same.
	s := startServer(t, "mysql:root@tcp(127.0.0.1:1)/imgcache", nil)
	c := newClient(t, s)
	ctx := context.Background()
	if err := c.Put(ctx, "k", []byte(b64("v"))); err != nil {
		t.Fatalf("Put with the database down: %v", err)
	}
	if v, _, err := c.Get(ctx, "k"); err != nil || string(v) != b64("v") {
		t.Errorf("Get with the database down = %q, %v", v, err)
	}
	if st, err := c.Stats(ctx); err != nil || st.Capacity != wire.DefaultCapacityMB*cache.MB {
		t.Errorf("Stats = %+v, %v; want the default capacity", st, err)
	}
	a := post(t, s, "POST", "/refresh_configuration", "", "")
	checkFailure(t, a, 503)
}

func TestBadDSNFailsAtStart(t *testing.T) {
	for _, dsn := range []string{"postgres://x", "mysql:not a dsn"} {
		_, err := memcache.Start(context.Background(), memcache.Config{Addr: "127.0.0.1:0", DB: dsn,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if !errors.Is(err, database.ErrBadDSN) {
			t.Errorf("Start with DSN %q = %v, want ErrBadDSN", dsn, err)
		}
	}
}

// TestPoliciesInStep: the contract's policies are exactly the engine's, by the same stored names, so
// a name the properties page accepts is one the service can apply.
func TestPoliciesInStep(t *testing.T) {
	var engine []string
	for _, p := range cache.Policies() {
		engine = append(engine, p.String())
	}
	var contract []string
	for _, p := range wire.Policies() {
		contract = append(contract, p.Name)
		for _, in := range append([]string{p.Name, p.Short}, p.Aliases...) {
			if got, err := cache.ParsePolicy(in); err != nil || got.String() != p.Name {
				t.Errorf("engine parses %q as %v, %v; want %q", in, got, err, p.Name)
			}
		}
	}
	if !slices.Equal(engine, contract) {
		t.Errorf("engine policies %q, contract policies %q", engine, contract)
	}
	if got := memcache.DefaultPolicyName(); got != wire.DefaultPolicy {
		t.Errorf("the engine's default policy is %q, the contract's %q", got, wire.DefaultPolicy)
	}
}

// TestNodeRegistersAndLeaves: a node is in the pool's table, active (or standby when asked), as soon
// as Start returns, heartbeats, and is gone from the live set as soon as it closes.
func TestNodeRegistersAndLeaves(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a := startServer(t, dsn, func(c *memcache.Config) { c.Heartbeat = 20 * time.Millisecond })
		b := startServer(t, dsn, func(c *memcache.Config) { c.Standby = true })
		db, err := database.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		nodes, err := db.Nodes(ctx)
		if err != nil || len(nodes) != 2 {
			t.Fatalf("Nodes = %+v, %v; want two", nodes, err)
		}
		if nodes[0].Address != a.URL() || nodes[0].State != database.NodeActive || nodes[0].CapacityMB != wire.DefaultCapacityMB {
			t.Errorf("first node = %+v, want %s active with %d MB", nodes[0], a.URL(), wire.DefaultCapacityMB)
		}
		if nodes[1].Address != b.URL() || nodes[1].State != database.NodeStandby {
			t.Errorf("second node = %+v, want %s standby", nodes[1], b.URL())
		}
		first := nodes[0].LastSeen
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
			if nodes, _ = db.Nodes(ctx); nodes[0].LastSeen.After(first) {
				break
			}
		}
		if !nodes[0].LastSeen.After(first) {
			t.Errorf("no heartbeat in 10 s: last seen stays %v", first)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if nodes, _ = db.Nodes(ctx); nodes[0].Alive(time.Minute) {
			t.Errorf("a closed node is still alive: %+v", nodes[0])
		}
	})
}
