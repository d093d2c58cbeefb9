package loadgen_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"imgcache/loadgen"
	"imgcache/memcache/wire"
)

// statsNode is a memcache node's /stats that wants the secret, as a node with one does.
func statsNode(t *testing.T, secret string, st wire.Stats) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != wire.PathStats || r.Header.Get(wire.HeaderAuthorization) != wire.Bearer(secret) {
			http.Error(w, `{"success":"false"}`, http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(st)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A pool's hit rate is over all its lookups: the counters of every node are summed, and the
// configuration is the one every node reads from the database.
func TestStatsSumsTheNodes(t *testing.T) {
	const secret = "s3cret"
	a := statsNode(t, secret, wire.Stats{Items: 2, Bytes: 200, CapacityMB: 4, Policy: wire.PolicySIEVE, Gets: 10, Hits: 7, Fills: 3, RefusedFills: 1})
	b := statsNode(t, secret, wire.Stats{Items: 3, Bytes: 300, CapacityMB: 4, Policy: wire.PolicySIEVE, Gets: 30, Hits: 9, Fills: 20, Evictions: 5})
	ctl := &loadgen.Control{MemcacheURLs: []string{a, b}, Secret: secret}
	got, err := ctl.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := wire.Stats{Items: 5, Bytes: 500, CapacityMB: 4, Policy: wire.PolicySIEVE, Gets: 40, Hits: 16, Fills: 23, RefusedFills: 1, Evictions: 5}
	if got != want {
		t.Errorf("Stats = %+v,\nwant %+v", got, want)
	}

	t.Run("without the secret", func(t *testing.T) {
		ctl := &loadgen.Control{MemcacheURLs: []string{a, b}}
		if _, err := ctl.Stats(context.Background()); !errors.Is(err, loadgen.ErrService) {
			t.Errorf("Stats error = %v, want ErrService (401)", err)
		}
	})
	t.Run("no nodes", func(t *testing.T) {
		if _, err := (&loadgen.Control{}).Stats(context.Background()); !errors.Is(err, loadgen.ErrNoStats) {
			t.Errorf("Stats error = %v, want ErrNoStats", err)
		}
	})
}

// The properties form answers "saved, pending" when the memcache did not take the settings in time:
// SetCache asks again until it is applied, and gives up with an error rather than run a series on
// the wrong configuration.
func TestSetCacheRetriesPending(t *testing.T) {
	for _, tt := range []struct {
		name      string
		pending   int // answers "saved=pending" this many times, then "saved=1"
		wantErr   bool
		wantPosts int
	}{
		{"applied at once", 0, false, 1},
		{"pending twice", 2, false, 3},
		{"never applied", 1000, true, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			posts := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				posts++
				if r.Method != http.MethodPost || r.URL.Path != "/cache_properties" {
					http.NotFound(w, r)
					return
				}
				saved := "1"
				if posts <= tt.pending {
					saved = "pending"
				}
				http.Redirect(w, r, "/cache_properties?saved="+saved, http.StatusSeeOther)
			}))
			defer srv.Close()
			ctl := &loadgen.Control{BackendURL: srv.URL, RetryPause: time.Millisecond}
			err := ctl.SetCache(context.Background(), 4, "SIEVE")
			if (err != nil) != tt.wantErr || posts != tt.wantPosts {
				t.Errorf("SetCache = %v after %d posts; want error %v after %d", err, posts, tt.wantErr, tt.wantPosts)
			}
		})
	}
}
