package app_test

import (
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"imgcache/app"
	"imgcache/app/api"
	"imgcache/app/apptest"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// TestShutdownDrains: a backend told to stop answers /healthz 503 with "backend":"draining" while it
// still serves every other request, then closes its listener.
func TestShutdownDrains(t *testing.T) {
	st := apptest.StartStack(t, dbtest.DSN(t, database.SQLite), func(c *app.Config) { c.Drain = 5 * time.Second })
	base := st.Backend.URL()
	health := func() (int, api.Health) {
		var h api.Health
		resp, err := http.Get(base + api.PathHealth)
		if err != nil {
			t.Fatalf("healthz: %v", err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&h)
		return resp.StatusCode, h
	}
	if code, h := health(); code != 200 || h.Backend != api.StateOK {
		t.Fatalf("healthz before the stop = %d %+v, want 200 with backend ok", code, h)
	}
	done := make(chan error, 1)
	go func() { done <- st.Backend.Shutdown() }()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		code, h := health()
		if code == http.StatusServiceUnavailable {
			if h.Backend != api.StateDraining || h.Database != api.StateOK || h.Error == nil {
				t.Errorf("healthz while draining = %+v, want backend draining beside database ok, with an error", h)
			}
			break
		}
		if time.Now().After(end) {
			t.Fatalf("healthz still %d 10 s after the stop began", code)
		}
	}
	if status, _ := apptest.Call(t, "POST", base+api.PathListKeys, "", nil); status != 200 {
		t.Errorf("list_keys while draining = %d, want 200: draining serves everything but the health check", status)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if c, err := net.DialTimeout("tcp", st.Backend.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("the listener still accepts after Shutdown")
	}
}
