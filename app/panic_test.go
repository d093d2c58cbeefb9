package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"imgcache/app/apptest"

	"imgcache/app"
	"imgcache/database"
)

// panicStore panics where the API's key listing reads the database.
type panicStore struct{ *fakeStore }

func (panicStore) ListImages(context.Context) ([]database.Image, error) { panic("boom listing keys") }

func (panicStore) FindImages(context.Context, database.ImageQuery) (database.ImagePage, error) {
	panic("boom listing keys")
}

// TestPanicIsA500: a handler that panics answers 500 in the API's contract (the JSON envelope; the
// pages' error page is web's TestPagePanicIsA500), its stack goes to the log, and the server keeps
// serving.
func TestPanicIsA500(t *testing.T) {
	var logs apptest.SyncBuffer
	s := app.New(app.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		newFakeCache(), panicStore{newFakeStore()}, newFakeFiles())
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })

	r := apptest.Request(t, "POST", s.URL()+"/api/list_keys", "", nil)
	var f struct {
		Success string
		Error   struct {
			Code    int
			Message string
		}
	}
	if err := json.Unmarshal([]byte(r.Body), &f); err != nil || r.Status != 500 || f.Success != "false" || f.Error.Code != 500 {
		t.Errorf("API answer = %d %q, want 500 in the failure shape", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "boom") {
		t.Errorf("the API answer leaks the panic: %q", r.Body)
	}
	if got := logs.String(); !strings.Contains(got, "boom listing keys") || !strings.Contains(got, "panic_test.go") {
		t.Errorf("log = %.500q, want the panic and its stack", got)
	}
	if r := apptest.Request(t, "GET", s.URL()+"/healthz", "", nil); r.Status != 200 {
		t.Errorf("after the panics: /healthz = %d, want 200", r.Status)
	}
}
