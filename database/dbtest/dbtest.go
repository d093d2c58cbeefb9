// Package dbtest gives tests a fresh, throwaway imgcache database of each dialect.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"imgcache/database"
)

// Environment variables read by this package.
const (
	// EnvMySQL is the go-sql-driver DSN of the test server; its database
	// name, if any, is ignored. MYSQL_TEST_DSN is read when it is unset.
	EnvMySQL = "IMGCACHE_TEST_MYSQL"
	// EnvRequireMySQL set to 1 turns an unreachable server into a failure.
	EnvRequireMySQL = "IMGCACHE_REQUIRE_MYSQL"
	// envMySQLAlias is the conventional name of the same setting, read as a fallback.
	envMySQLAlias = "MYSQL_TEST_DSN"
)

// DefaultMySQL is the test server used when EnvMySQL is unset.
const DefaultMySQL = "root@tcp(127.0.0.1:3306)/"

// DatabasePrefix starts the name of every database this package creates.
const DatabasePrefix = "imgcache_test_"

// reachTimeout bounds the check that the server answers.
const reachTimeout = 3 * time.Second

// Each runs f once per dialect, as subtests "sqlite" and "mysql", each with
// a fresh database from DSN.
func Each(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Helper()
	for _, d := range []database.Dialect{database.SQLite, database.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			f(t, DSN(t, d))
		})
	}
}

// DSN returns the DSN of a fresh database of dialect d for database.Open.
//
// SQLite: a file in a new folder under t.TempDir(); Open creates both.
// MySQL: a uniquely named database (DatabasePrefix + random) on the server
// named by EnvMySQL, which Open creates and t.Cleanup drops. When that
// server does not answer, the test is skipped with a message naming it, or
// fails when EnvRequireMySQL is 1.
func DSN(t *testing.T, d database.Dialect) string {
	t.Helper()
	return DSNFor(t, d)
}

// DSNFor is DSN for any testing.TB, such as a benchmark.
func DSNFor(tb testing.TB, d database.Dialect) string {
	tb.Helper()
	switch d {
	case database.SQLite:
		return "sqlite:" + filepath.Join(tb.TempDir(), "data", "imgcache.db")
	case database.MySQL:
		return mysqlDSN(tb)
	}
	tb.Fatalf("dbtest: unknown dialect %q", d)
	return ""
}

func mysqlDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvMySQL)
	if base == "" {
		base = os.Getenv(envMySQLAlias)
	}
	if base == "" {
		base = DefaultMySQL
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(base, "mysql:"))
	if err != nil {
		tb.Fatalf("dbtest: %s=%q: %v", EnvMySQL, base, err)
	}
	cfg.DBName = ""
	server := cfg.User + "@" + cfg.Net + "(" + cfg.Addr + ")"

	admin, err := connect(cfg)
	if err != nil {
		unreachable(tb, server, err)
	}
	name := DatabasePrefix + randomHex(tb, 6)
	tb.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			tb.Errorf("dbtest: drop database %s on %s: %v", name, server, err)
		}
	})
	cfg.DBName = name
	return string(database.MySQL) + ":" + cfg.FormatDSN()
}

// connect opens and pings an administrative pool on the server of cfg.
func connect(cfg *mysql.Config) (*sql.DB, error) {
	c := cfg.Clone()
	c.Timeout = reachTimeout
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func unreachable(tb testing.TB, server string, err error) {
	tb.Helper()
	if os.Getenv(EnvRequireMySQL) == "1" {
		tb.Fatalf("dbtest: MySQL at %s is unreachable and %s=1: %v", server, EnvRequireMySQL, err)
	}
	tb.Skipf("dbtest: skipping: MySQL at %s is unreachable (%v); set %s to another server, or %s=1 to fail instead",
		server, err, EnvMySQL, EnvRequireMySQL)
}

func randomHex(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	return hex.EncodeToString(b)
}
