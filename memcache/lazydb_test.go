package memcache

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"imgcache/database"
)

// TestLazyDBOpensWhenItCan: a failed open is retried on the next use.
func TestLazyDBOpensWhenItCan(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil { // a file where the database's folder must go
		t.Fatal(err)
	}
	l := &lazyDB{dsn: "sqlite:" + filepath.Join(blocker, "imgcache.db")}
	ctx := context.Background()
	if err := l.InsertStats(ctx, database.StatsRow{RequestCount: 1}); err == nil {
		t.Fatal("InsertStats succeeded although the database cannot be created")
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := l.InsertStats(ctx, database.StatsRow{RequestCount: 1}); err != nil {
		t.Fatalf("InsertStats once the database can be created: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.InsertStats(ctx, database.StatsRow{}); err == nil {
		t.Errorf("InsertStats after Close succeeded")
	}
}
