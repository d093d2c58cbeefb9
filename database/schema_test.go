package database_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"imgcache/database"
	"imgcache/database/dbtest"
)

var tables = []string{"images", "cache_properties", "cache_stats", "memcache_nodes", "pool_settings", "pool_events", "pool_lock"}

// columns returns the column names of table, in order.
func columns(t *testing.T, db *database.DB, table string) []string {
	t.Helper()
	q := "SELECT name FROM pragma_table_info(?) ORDER BY cid"
	if db.Dialect() == database.MySQL {
		q = "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position"
	}
	return queryStrings(t, db.SQL(), q, table)
}

// indexedColumns returns the first column of each secondary index of table.
func indexedColumns(t *testing.T, db *database.DB, table string) []string {
	t.Helper()
	q := "SELECT ii.name FROM pragma_index_list(?) il, pragma_index_info(il.name) ii WHERE il.origin = 'c' AND ii.seqno = 0"
	if db.Dialect() == database.MySQL {
		q = "SELECT column_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY' AND seq_in_index = 1"
	}
	return queryStrings(t, db.SQL(), q, table)
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemasInStep checks that sqlite.sql and memcache.sql define the same
// tables with the same columns in the same order, and the stats time index.
func TestSchemasInStep(t *testing.T) {
	lite := open(t, dbtest.DSN(t, database.SQLite))
	my := open(t, dbtest.DSN(t, database.MySQL))
	for _, table := range tables {
		got, want := columns(t, lite, table), columns(t, my, table)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s columns: sqlite %q, mysql %q; want equal and not empty", table, got, want)
		}
	}
	for _, db := range []*database.DB{lite, my} {
		if got := indexedColumns(t, db, "cache_stats"); !slices.Contains(got, "created_at") {
			t.Errorf("%s: cache_stats indexes start with %q, want one on created_at", db.Dialect(), got)
		}
		if got := indexedColumns(t, db, "images"); !slices.Contains(got, "location") {
			t.Errorf("%s: images indexes start with %q, want one on location", db.Dialect(), got)
		}
	}
}

// TestMemcacheSQLLoads loads memcache.sql by hand, as a DBA would, twice,
// into a new database, then opens it and uses it.
func TestMemcacheSQLLoads(t *testing.T) {
	dsn := dbtest.DSN(t, database.MySQL)
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql:"))
	if err != nil {
		t.Fatal(err)
	}
	var client string
	for _, name := range []string{"mariadb", "mysql"} {
		if p, err := exec.LookPath(name); err == nil {
			client = p
			break
		}
	}
	if client == "" {
		t.Skip("no mariadb or mysql command-line client on PATH")
	}
	args := []string{"--user=" + cfg.User}
	switch cfg.Net {
	case "unix":
		args = append(args, "--socket="+cfg.Addr)
	default:
		host, port, _ := strings.Cut(cfg.Addr, ":")
		args = append(args, "--protocol=TCP", "--host="+host, "--port="+port)
	}
	run := func(stdin []byte, extra ...string) {
		t.Helper()
		cmd := exec.Command(client, append(args, extra...)...)
		cmd.Env = append(os.Environ(), "MYSQL_PWD="+cfg.Passwd)
		cmd.Stdin = bytes.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %q: %v\n%s", client, extra, err, out)
		}
	}
	schema, err := os.ReadFile("memcache.sql")
	if err != nil {
		t.Fatal(err)
	}
	run(nil, "-e", "CREATE DATABASE `"+cfg.DBName+"`")
	run(schema, cfg.DBName)
	run(schema, cfg.DBName) // idempotent

	db := open(t, dsn)
	for _, table := range tables {
		if got := columns(t, db, table); len(got) == 0 {
			t.Errorf("table %s missing after loading memcache.sql", table)
		}
	}
	ctx := context.Background()
	if _, err := db.PutImage(ctx, database.Image{Key: "k", Location: "f"}); err != nil {
		t.Fatalf("PutImage: %v", err)
	}
	if img, err := db.GetImage(ctx, "k"); err != nil || img.Location != "f" {
		t.Errorf("GetImage = %+v, %v; want location %q", img, err, "f")
	}
}
