package dbtest_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"imgcache/database"
	"imgcache/database/dbtest"
)

func TestEachNamesSubtestsAndGivesFreshDSNs(t *testing.T) {
	seen := map[string]string{}
	dbtest.Each(t, func(t *testing.T, dsn string) {
		name := t.Name()[strings.LastIndex(t.Name(), "/")+1:]
		if !strings.HasPrefix(dsn, name+":") {
			t.Errorf("subtest %q got DSN %q, want one of that dialect", name, dsn)
		}
		if again := dbtest.DSN(t, database.Dialect(name)); again == dsn {
			t.Errorf("DSN returned %q twice", dsn)
		}
		seen[name] = dsn
	})
	if _, ok := seen["sqlite"]; !ok {
		t.Errorf("Each did not run the sqlite subtest")
	}
}

// TestMySQLDatabaseDropped checks that the database of a MySQL DSN is gone
// once the test that asked for it has ended.
func TestMySQLDatabaseDropped(t *testing.T) {
	var dsn string
	t.Run("user", func(t *testing.T) {
		dsn = dbtest.DSN(t, database.MySQL)
		db, err := database.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	})
	if dsn == "" {
		t.SkipNow() // the subtest skipped: no server
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql:"))
	if err != nil {
		t.Fatal(err)
	}
	name := cfg.DBName
	cfg.DBName = ""
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin := sql.OpenDB(conn)
	defer admin.Close()
	var n int
	err = admin.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test ended", name)
	}
}
