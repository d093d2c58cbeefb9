package memcache_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"imgcache/database/dbtest"
	"imgcache/memcache"
	"imgcache/memcache/wire"
)

// TestLiveMRC: every hit and every fill reach the node's live curve, which GET /mrc answers.
func TestLiveMRC(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn, func(c *memcache.Config) { c.LiveMRC = true })
		c := newClient(t, s)
		ctx := context.Background()
		value := []byte(b64(string(make([]byte, 750)))) // 1,000 bytes of base64
		for i := range 20 {
			if err := c.Put(ctx, fmt.Sprint("k", i), value); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			for i := range 20 {
				if _, _, err := c.Get(ctx, fmt.Sprint("k", i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The simulations run behind the requests: wait, with a deadline, until they have all 60.
		var a answer
		for deadline := time.Now().Add(10 * time.Second); ; {
			a = send(t, s, http.MethodGet, wire.PathMRC, "", "", nil)
			if a.status != http.StatusOK {
				t.Fatalf("GET %s: %d %v", wire.PathMRC, a.status, a.body)
			}
			if a.body["accesses"] == 60.0 || time.Now().After(deadline) {
				break
			}
		}
		if a.body["accesses"] != 60.0 || a.body["rate"] != 1.0 || a.body["keys"] != 20.0 || a.body["capacity"] != float64(wire.DefaultCapacityMB<<20) {
			t.Fatalf("GET %s = %v, want 60 accesses of 20 keys, all sampled", wire.PathMRC, a.body)
		}
		curves := a.body["curves"].([]any)
		if len(curves) != 4 {
			t.Fatalf("%d curves, want one per policy", len(curves))
		}
		for _, c := range curves {
			for _, p := range c.(map[string]any)["points"].([]any) {
				// 20 KB fit every size: the 40 gets hit, the 20 fills were first uses.
				if hr := p.(map[string]any)["hit_rate"].(float64); hr < 0.666 || hr > 0.667 {
					t.Errorf("%v: point %v, want a hit rate of 40/60", c.(map[string]any)["policy"], p)
				}
			}
		}
	})
}

func TestLiveMRCOff(t *testing.T) {
	s := startServer(t, "sqlite:"+t.TempDir()+"/db.sqlite", nil) // off by default
	c := newClient(t, s)
	if err := c.Put(context.Background(), "k", []byte(b64("v"))); err != nil {
		t.Fatal(err)
	}
	a := send(t, s, http.MethodGet, wire.PathMRC, "", "", nil)
	if a.status != http.StatusOK || a.body["accesses"] != 0.0 || len(a.body["curves"].([]any)) != 0 {
		t.Errorf("GET %s with the curve off = %d %v, want no curves", wire.PathMRC, a.status, a.body)
	}
}
