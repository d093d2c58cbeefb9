package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imgcache/app/apptest"

	"imgcache/app"
	"imgcache/app/api"
	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache/client"
	"imgcache/memcache/wire"
)

// cachedObject reports whether the stack's memcache holds the object called name. A miss hands out a
// lease, which changes nothing a test looks at.
func cachedObject(t *testing.T, st *apptest.Stack, name string) bool {
	t.Helper()
	st.Backend.Settle() // a delete's invalidation runs after its answer
	c, err := client.New(st.Memcache.URL(), client.Options{Secret: apptest.StackSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = c.AppendGet(ctx, nil, name)
	switch {
	case err == nil:
		return true
	case errors.Is(err, wire.ErrMiss):
		return false
	}
	t.Fatalf("memcache get %s: %v", name, err)
	return false
}

// apiCall sends an API request with extra headers, and returns the status and the decoded answer.
func apiCall(t *testing.T, method, u string, header map[string]string) (int, apptest.APIAnswer) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := apptest.NoRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a apptest.APIAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("%s %s: the answer is not JSON: %v", method, u, err)
	}
	if resp.StatusCode >= 400 && (a.Success != "false" || a.Error.Code != resp.StatusCode || a.Error.Message == "") {
		t.Errorf("%s %s: status %d with %+v; want the failure shape with code %d", method, u, resp.StatusCode, a, resp.StatusCode)
	}
	return resp.StatusCode, a
}

// TestAPIDelete deletes keys through POST /api/delete/<key> on both engines: the answer, then the row,
// the object and the cache entry gone, and the refusals that change nothing.
func TestAPIDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		st := apptest.StartStack(t, dsn, nil)
		db := apptest.OpenDB(t, dsn)
		base := st.Backend.URL()
		keys := []string{"cat", "a/b/../c", "with space?&=#", "ünï", "kept"}
		for i, k := range keys {
			if status, a := apptest.Upload(t, base, k, apptest.PNGImage(t, i)); status != 200 {
				t.Fatalf("upload %q = %d %+v", k, status, a)
			}
			apptest.ReadKey(t, base, k) // fills the cache
		}
		tests := []struct {
			name   string
			method string
			path   string
			header map[string]string
			status int
			key    string // deleted: its row, object and cache entry must go
			say    string
		}{
			{name: "plain key", method: "POST", path: api.DeletePath("cat"), status: 200, key: "cat"},
			{name: "escaped slashes and dots", method: "POST", path: api.DeletePath("a/b/../c"), status: 200, key: "a/b/../c"},
			{name: "query characters", method: "POST", path: api.DeletePath("with space?&=#"), status: 200, key: "with space?&=#"},
			{name: "non-ASCII", method: "POST", path: api.DeletePath("ünï"), status: 200, key: "ünï"},
			{name: "deleted already", method: "POST", path: api.DeletePath("cat"), status: 404, say: `no image is stored under key "cat"`},
			{name: "never stored", method: "POST", path: api.DeletePath("nope"), status: 404, say: "no image is stored"},
			{name: "empty key", method: "POST", path: api.PathDeletePrefix, status: 400, say: "empty"},
			{name: "control character", method: "POST", path: api.PathDeletePrefix + "a%01b", status: 400, say: "control character"},
			{name: "too long", method: "POST", path: api.DeletePath(strings.Repeat("k", 256)), status: 400, say: "255"},
			{name: "from another origin", method: "POST", path: api.DeletePath("kept"), header: map[string]string{"Origin": "http://evil.example"}, status: 403, say: "another origin"},
			{name: "cross-site fetch", method: "POST", path: api.DeletePath("kept"), header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
			{name: "GET", method: "GET", path: api.DeletePath("kept"), status: 405},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var loc string
				if tt.key != "" {
					row, err := db.GetImage(context.Background(), tt.key)
					if err != nil {
						t.Fatalf("GetImage(%q) before: %v", tt.key, err)
					}
					loc = row.Location
					if !cachedObject(t, st, loc) {
						t.Fatalf("the cache does not hold %q's object before the delete, so its removal could not be seen", tt.key)
					}
				}
				status, a := apiCall(t, tt.method, base+tt.path, tt.header)
				if status != tt.status {
					t.Fatalf("%s %s = %d %+v, want %d", tt.method, tt.path, status, a, tt.status)
				}
				if !strings.Contains(a.Error.Message, tt.say) {
					t.Errorf("message %q does not say %q", a.Error.Message, tt.say)
				}
				if tt.key == "" {
					return
				}
				if a.Success != "true" || a.Key != tt.key {
					t.Errorf("answer = %+v, want success with key %q", a, tt.key)
				}
				if status, _ := apptest.ReadKey(t, base, tt.key); status != 404 {
					t.Errorf("read after delete = %d, want 404", status)
				}
				if _, err := db.GetImage(context.Background(), tt.key); !errors.Is(err, database.ErrNotFound) {
					t.Errorf("row after delete: %v, want ErrNotFound", err)
				}
				if _, err := os.Stat(filepath.Join(st.DataDir, "images", loc)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("object %s after delete: %v, want it gone", loc, err)
				}
				if cachedObject(t, st, loc) {
					t.Errorf("the cache still holds object %s after the delete", loc)
				}
			})
		}
		if status, a := apptest.ReadKey(t, base, "kept"); status != 200 || a.Key != "kept" {
			t.Errorf("the refused deletes removed %q: read = %d %+v", "kept", status, a)
		}
	})
}

// TestDeleteDomain: Delete removes the row, then the object from the cache and the store; a cache that
// cannot be told does not keep the object in the store or fail the delete.
func TestDeleteDomain(t *testing.T) {
	tests := []struct {
		name      string
		failInval bool
		wantCache bool // the cache still holds the object afterwards
	}{
		{"cache reachable", false, false},
		{"invalidation fails", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p := newAllFakeServer(t)
			ctx := context.Background()
			if err := s.Upload(ctx, "k", apptest.PNGImage(t, 1)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Read(ctx, "k", nil); err != nil { // fills the cache
				t.Fatal(err)
			}
			loc := location(t, p.store, "k")
			if _, ok := p.cache.cached(loc); !ok {
				t.Fatalf("the read did not fill the cache")
			}
			p.cache.set(func(c *fakeCache) { c.failInval = tt.failInval })
			if err := s.Delete(ctx, "k"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			s.Settle() // the invalidation runs after the answer
			if _, err := p.store.GetImage(ctx, "k"); !errors.Is(err, database.ErrNotFound) {
				t.Errorf("row after Delete: %v, want ErrNotFound", err)
			}
			if p.files.has(loc) {
				t.Errorf("object %s is still stored after Delete", loc)
			}
			if _, ok := p.cache.cached(loc); ok != tt.wantCache {
				t.Errorf("cache holds the object after Delete: %v, want %v", ok, tt.wantCache)
			}
			if err := s.Delete(ctx, "k"); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("second Delete = %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, ""); !errors.Is(err, app.ErrInvalid) {
				t.Errorf("Delete of the empty key = %v, want ErrInvalid", err)
			}
		})
	}
}
