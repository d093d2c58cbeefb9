package memcache_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache"
	"imgcache/memcache/client"
	"imgcache/memcache/wire"
)

const hostileSecret = "s3cret-for-the-test"

// TestHostileMemcache sends the memcache every hostile request of the security audit and checks the
// status, the failure envelope, and that the cache is as it was.
func TestHostileMemcache(t *testing.T) {
	s := startServer(t, dbtest.DSN(t, database.SQLite), func(c *memcache.Config) { c.Secret = hostileSecret; c.MaxBodySize = 1 << 20 })
	c, err := client.New(s.URL(), client.Options{Secret: hostileSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Put(ctx, "victim", []byte(b64("the real image"))); err != nil {
		t.Fatal(err)
	}
	auth := "Bearer " + hostileSecret
	const json_, raw_ = "application/json", "application/octet-stream"
	tests := []struct {
		name, method, path, contentType, body string
		header                                map[string]string
		raw                                   string
		want                                  int
		say                                   string
	}{
		{name: "poison without the secret", method: "POST", path: "/put_into_memcache?key=victim", contentType: raw_, body: b64("other"), want: 401, say: "secret"},
		{name: "poison with another secret", method: "POST", path: "/put_into_memcache?key=victim", contentType: raw_, body: b64("other"), header: map[string]string{"Authorization": "Bearer guess"}, want: 401},
		{name: "get without the secret", method: "POST", path: "/get_from_memcache", contentType: json_, body: `{"key":"victim"}`, want: 401},
		{name: "clear without the secret", method: "POST", path: "/clear_cache", want: 401},
		{name: "stats without the secret", method: "GET", path: "/stats", want: 401},
		{name: "metrics without the secret", method: "GET", path: "/metrics", want: 401},
		{name: "unknown path without the secret", method: "GET", path: "/nope", want: 401},
		{name: "browser origin, even with the secret", method: "POST", path: "/clear_cache", header: map[string]string{"Authorization": auth, "Origin": "http://evil.example"}, want: 403, say: "browsers"},
		{name: "cross-site fetch", method: "POST", path: "/clear_cache", header: map[string]string{"Authorization": auth, "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "NUL in a JSON key", method: "POST", path: "/put_into_memcache", contentType: json_, body: `{"key":"vic\u0000tim","value":"` + b64("x") + `"}`, header: map[string]string{"Authorization": auth}, want: 400, say: "control character"},
		{name: "NUL in a binary key", method: "POST", path: "/put_into_memcache?key=vic%00tim", contentType: raw_, body: b64("x"), header: map[string]string{"Authorization": auth}, want: 400},
		{name: "JSON with trailing garbage", method: "POST", path: "/put_into_memcache", contentType: json_, body: `{"key":"victim","value":"` + b64("x") + `"} garbage`, header: map[string]string{"Authorization": auth}, want: 400},
		{name: "not base64", method: "POST", path: "/put_into_memcache?key=victim", contentType: raw_, body: "not base64!", header: map[string]string{"Authorization": auth}, want: 400},
		{name: "bad lease", method: "POST", path: "/put_into_memcache?key=victim&lease=-5", contentType: raw_, body: b64("x"), header: map[string]string{"Authorization": auth}, want: 400},
		{name: "a stale lease", method: "POST", path: "/put_into_memcache?key=victim&lease=12345", contentType: raw_, body: b64("x"), header: map[string]string{"Authorization": auth}, want: 409},
		{name: "empty JSON body", method: "POST", path: "/get_from_memcache", contentType: json_, header: map[string]string{"Authorization": auth}, want: 400},
		{name: "wrong method", method: "GET", path: "/clear_cache", header: map[string]string{"Authorization": auth}, want: 405},
		{name: "a browser origin in lower case", raw: "POST /clear_cache HTTP/1.1\r\nHost: x\r\nauthorization: " + auth + "\r\norigin: http://evil.example\r\nContent-Length: 0\r\n\r\n", want: 403},
		{name: "body over the limit", raw: "POST /put_into_memcache?key=victim HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth + "\r\nContent-Length: 2000000\r\n\r\nabc", want: 413},
		{name: "long URL", raw: "POST /get_from_memcache?key=" + strings.Repeat("k", 20000) + " HTTP/1.1\r\nHost: x\r\n\r\n", want: 414},
		{name: "large headers", raw: "GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 20000) + "\r\n\r\n", want: 431},
		{name: "not HTTP", raw: "HELLO THERE\r\n\r\n", want: 400},
	}
	before, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a answer
			if tt.raw != "" {
				a = rawRequest(t, s.Addr(), tt.raw)
			} else {
				a = send(t, s, tt.method, tt.path, tt.contentType, tt.body, tt.header)
			}
			checkFailure(t, a, tt.want)
			if msg := a.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, tt.say) {
				t.Errorf("message %q does not say %q", msg, tt.say)
			}
			if tt.want == 401 && a.header.Get("WWW-Authenticate") == "" {
				t.Errorf("a 401 without WWW-Authenticate")
			}
			after, err := c.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if after.Items != before.Items || after.Bytes != before.Bytes || after.Puts != before.Puts || after.Invalidations != before.Invalidations {
				t.Errorf("the cache changed: %+v, was %+v", after, before)
			}
		})
	}
	v, _, err := c.Get(ctx, "victim")
	if err != nil || string(v) != b64("the real image") {
		t.Errorf("victim = %q, %v; want the real image", v, err)
	}
	// The health check needs no secret, so that a supervisor can poll it.
	if a := send(t, s, "GET", "/healthz", "", "", nil); a.status != 200 || a.body["database"] != "ok" {
		t.Errorf("/healthz without the secret = %d %v, want 200 with the database ok", a.status, a.body)
	}
	// A client with the wrong secret sees the cache as unavailable, and why.
	wrong, err := client.New(s.URL(), client.Options{Secret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	if _, _, err := wrong.Get(ctx, "victim"); !errors.Is(err, wire.ErrUnavailable) || !errors.Is(err, wire.ErrUnauthorized) {
		t.Errorf("Get with the wrong secret = %v, want ErrUnavailable and ErrUnauthorized", err)
	}
	t.Logf("%d hostile cases", len(tests))
}

// TestRefusesWildcardWithoutSecret: a memcache asked to listen beyond loopback without a secret does
// not start, and says why. It fails before binding anything.
func TestRefusesWildcardWithoutSecret(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:0"} {
		_, err := memcache.Start(context.Background(), memcache.Config{Addr: addr, DB: dbtest.DSN(t, database.SQLite)})
		if err == nil || !strings.Contains(err.Error(), "without a secret") {
			t.Errorf("Start on %s without a secret = %v, want a refusal", addr, err)
		}
	}
}

// send is post with headers.
func send(t *testing.T, s *memcache.Server, method, path, contentType, body string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return decodeAnswer(t, resp)
}

func rawRequest(t *testing.T, addr, request string) answer {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	defer resp.Body.Close()
	return decodeAnswer(t, resp)
}

func decodeAnswer(t *testing.T, resp *http.Response) answer {
	t.Helper()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("body %q is not JSON: %v", raw, err)
	}
	return a
}
