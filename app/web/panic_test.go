package web_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"imgcache/app"
	"imgcache/app/apptest"
	"imgcache/app/imagestore"
	"imgcache/app/web"
	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/memcache/client"
)

// panicStore panics where the keys page reads the database.
type panicStore struct{ *database.DB }

func (panicStore) FindImages(context.Context, database.ImageQuery) (database.ImagePage, error) {
	panic("boom listing keys")
}

// TestPagePanicIsA500: a page handler that panics answers the 500 error page without the cause, its
// stack goes to the log, and the server keeps serving.
func TestPagePanicIsA500(t *testing.T) {
	var logs apptest.SyncBuffer
	files, err := imagestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mc, err := client.New("http://127.0.0.1:1", client.Options{}) // no memcache: the keys page does not need one
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	s := app.New(app.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(&logs, nil)), Pages: web.New},
		mc, panicStore{apptest.OpenDB(t, dbtest.DSN(t, database.SQLite))}, files)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })

	r := apptest.Request(t, "GET", s.URL()+"/keys_list", "", nil)
	if r.Status != 500 || !strings.Contains(r.Body, "<title>500 Internal Server Error · imgcache</title>") || strings.Contains(r.Body, "boom") {
		t.Errorf("page answer = %d %.300q, want the 500 error page without the cause", r.Status, r.Body)
	}
	if got := logs.String(); !strings.Contains(got, "boom listing keys") || !strings.Contains(got, "panic_test.go") {
		t.Errorf("log = %.500q, want the panic and its stack", got)
	}
	if r := apptest.Request(t, "GET", s.URL()+"/", "", nil); r.Status != 200 {
		t.Errorf("after the panic: / = %d, want 200", r.Status)
	}
}
