package database_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imgcache/database"
	"imgcache/database/dbtest"
)

// open opens dsn and closes it when the test ends.
func open(t testing.TB, dsn string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestOpen(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		if got, want := string(db.Dialect()), dsn[:strings.Index(dsn, ":")]; got != want {
			t.Errorf("Dialect() = %q, want %q", got, want)
		}
		if err := db.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if db.SQL() == nil {
			t.Fatal("SQL() = nil")
		}
		if _, err := db.PutImage(ctx, database.Image{Key: "k", Location: "f1"}); err != nil {
			t.Fatalf("PutImage: %v", err)
		}

		// Opening again finds the tables and leaves the rows alone.
		again := open(t, dsn)
		img, err := again.GetImage(ctx, "k")
		if err != nil {
			t.Fatalf("GetImage after reopen: %v", err)
		}
		if img.Location != "f1" {
			t.Errorf("GetImage(%q).Location after reopen = %q, want %q", "k", img.Location, "f1")
		}
	})
}

func TestOpenSQLiteSettings(t *testing.T) {
	dsn := dbtest.DSN(t, database.SQLite)
	path := strings.TrimPrefix(dsn, "sqlite:")
	db := open(t, dsn)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	for _, tt := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"busy_timeout", "5000"},
		{"synchronous", "2"}, // FULL: an acknowledged upload's row survives a power cut
	} {
		var got string
		if err := db.SQL().QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
		}
	}
}

func TestOpenSQLiteCallerPragmaWins(t *testing.T) {
	dsn := dbtest.DSN(t, database.SQLite) + "?_pragma=busy_timeout(1234)"
	db := open(t, dsn)
	var got int
	if err := db.SQL().QueryRow("PRAGMA busy_timeout").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != 1234 {
		t.Errorf("PRAGMA busy_timeout = %d, want 1234 (the caller's)", got)
	}
}

func TestOpenMySQLSettings(t *testing.T) {
	dsn := dbtest.DSN(t, database.MySQL)
	db := open(t, dsn)
	var tz, name string
	if err := db.SQL().QueryRow("SELECT @@session.time_zone, DATABASE()").Scan(&tz, &name); err != nil {
		t.Fatal(err)
	}
	if tz != "+00:00" {
		t.Errorf("session time_zone = %q, want %q", tz, "+00:00")
	}
	if !strings.HasPrefix(name, dbtest.DatabasePrefix) || !strings.HasSuffix(dsn, "/"+name) {
		t.Errorf("DATABASE() = %q, want the one named in %q", name, dsn)
	}
}

func TestOpenDefaultDSN(t *testing.T) {
	t.Chdir(t.TempDir())
	db := open(t, "")
	if db.Dialect() != database.SQLite {
		t.Errorf("Open(\"\").Dialect() = %q, want %q", db.Dialect(), database.SQLite)
	}
	want := filepath.FromSlash(strings.TrimPrefix(database.DefaultDSN, "sqlite:"))
	if _, err := os.Stat(want); err != nil {
		t.Errorf("Open(\"\") did not create %s: %v", want, err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, dsn string
		notIn     string // must not appear in the error
	}{
		{name: "no scheme", dsn: "data/imgcache.db"},
		{name: "unknown scheme", dsn: "postgres://u@h/db"},
		{name: "sqlite empty path", dsn: "sqlite:"},
		{name: "sqlite memory", dsn: "sqlite::memory:"},
		{name: "sqlite uri", dsn: "sqlite:file:x.db"},
		{name: "sqlite bad parameter", dsn: "sqlite:" + filepath.Join(t.TempDir(), "x.db") + "?_journal_mode=bogus"},
		{name: "mysql malformed", dsn: "mysql:root@tcp(127.0.0.1:3306)imgcache"},
		// Port 1: nothing listens, the dial fails at once.
		{name: "mysql unreachable", dsn: "mysql:root:s3cret@tcp(127.0.0.1:1)/imgcache?timeout=2s", notIn: "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			db, err := database.Open(ctx, tt.dsn)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.dsn)
			}
			if tt.notIn != "" && strings.Contains(err.Error(), tt.notIn) {
				t.Errorf("Open(%q) error %q reveals %q", tt.dsn, err, tt.notIn)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	db, err := database.Open(context.Background(), dbtest.DSN(t, database.SQLite))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := db.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

func TestErrNotFoundWrapped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		_, err := db.GetImage(ctx, "nope")
		if !errors.Is(err, database.ErrNotFound) {
			t.Errorf("GetImage(missing) error = %v, want ErrNotFound", err)
		}
		if err != nil && !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("GetImage(missing) error %q does not name the key", err)
		}
		_, err = db.LatestCacheProperties(ctx)
		if !errors.Is(err, database.ErrNotFound) {
			t.Errorf("LatestCacheProperties(empty) error = %v, want ErrNotFound", err)
		}
	})
}
