// Package database opens the imgcache database (embedded SQLite or MySQL/MariaDB) and holds the queries both services use.
package database

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned, wrapped, when the row asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrCommitUnknown is returned, wrapped, when COMMIT itself failed: the server may have committed all
// the same (a connection lost while it did), so the caller must not act as if nothing was written.
// Any other error of a writing call means the transaction rolled back.
var ErrCommitUnknown = errors.New("commit outcome unknown")

// ErrBadDSN reports a DSN that cannot be understood, as opposed to a server that cannot be reached:
// retrying it is pointless.
var ErrBadDSN = errors.New("bad database DSN")

// DefaultDSN is the embedded database under the default data folder.
const DefaultDSN = "sqlite:data/imgcache.db"

// DefaultMySQLDatabase is the database Open uses when a MySQL DSN names none.
const DefaultMySQLDatabase = "imgcache"

// Dialect names a database engine; it is also the scheme of a DSN.
type Dialect string

// The dialects Open understands.
const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// The DDL of each dialect. memcache.sql is also the file a DBA loads by hand.
var (
	//go:embed memcache.sql
	mysqlSchema string
	//go:embed sqlite.sql
	sqliteSchema string
)

// sqlitePragmas are the SQLite connection settings Open adds. Two processes
// share the file: WAL lets readers run beside the writer, busy_timeout
// (which the driver applies first) makes a writer, or the journal_mode
// switch itself, wait for the other process's lock instead of failing.
// openSQLite also sets _txlock=immediate, so that a transaction that reads
// then writes takes the write lock at BEGIN: a deferred one fails with
// SQLITE_BUSY, without waiting, when another connection committed between
// its read and its write. synchronous FULL syncs the log at every commit: with
// NORMAL a commit can roll back after a power cut, and an upload acknowledged
// then, whose replaced object was already removed, would be lost and its key
// broken.
func sqlitePragmas() []string {
	return []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)"}
}

// Pool limits. SQLite has one writer at a time and each connection keeps
// its own page cache, so a handful of connections serve reads well; MySQL
// gets more, and connections are recycled before common server or proxy
// idle timeouts cut them.
const (
	sqliteMaxConns     = 8
	mysqlMaxConns      = 32
	mysqlConnLifetime  = 3 * time.Minute
	mysqlConnIdleTime  = time.Minute
	mysqlDeadlockRetry = 10
)

// MySQL error numbers acted upon.
const (
	mysqlErrBadDB    = 1049 // ER_BAD_DB_ERROR: unknown database
	mysqlErrDeadlock = 1213 // ER_LOCK_DEADLOCK: the transaction was rolled back
)

// DB is an open imgcache database. It is safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect Dialect

	// writeSem serialises this process's SQLite writers (nil on MySQL).
	// SQLite admits one writer at a time and a blocked writer polls with
	// sleeps of up to 100 ms; queueing in Go instead hands the lock over at
	// once. Writers in other processes still wait through busy_timeout.
	writeSem chan struct{}

	// getImage is prepared once: parsing the query cost more than running
	// it on SQLite, and on MySQL an unprepared query with arguments takes
	// three round trips (prepare, execute, close) instead of one.
	getImage *sql.Stmt
	lookups  [lookupSizes]*sql.Stmt // GetImages, by IN-list length

	// timeout bounds every call, so that a hung database answers callers with an error in
	// seconds instead of holding them, and their pool connections, for as long as it hangs.
	timeout time.Duration

	closeOnce sync.Once
	closeErr  error
}

// DefaultTimeout bounds each call of a DB unless SetTimeout says otherwise.
const DefaultTimeout = 5 * time.Second

// SetTimeout sets the deadline of every later call: d after it starts, or the caller's deadline if
// earlier. Zero or less means DefaultTimeout. Call it before sharing db.
func (db *DB) SetTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultTimeout
	}
	db.timeout = d
}

// bound gives ctx the call's deadline.
func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, db.timeout)
}

// boundRead is bound for the one read on every request's path, GetImage. On SQLite it drops the
// caller's cancellation instead: a cancellable context costs every query a goroutine, in database/sql
// and in the driver, which made a cached read 2.5 times slower (BenchmarkReadHit), while a read of a
// WAL database never waits for a writer and busy_timeout bounds what little it may wait. On MySQL the
// deadline stands between the request and a hung server.
func (db *DB) boundRead(ctx context.Context) (context.Context, context.CancelFunc) {
	if db.dialect == SQLite {
		return context.WithoutCancel(ctx), func() {}
	}
	return db.bound(ctx)
}

// Open opens the database named by dsn: "sqlite:PATH" (PATH may carry
// modernc.org/sqlite query parameters) or "mysql:DSN" with DSN in the
// github.com/go-sql-driver/mysql form, e.g. mysql:root@tcp(127.0.0.1:3306)/imgcache.
// An empty dsn means DefaultDSN; a MySQL DSN without a database name means
// DefaultMySQLDatabase. Open creates the SQLite file's folder or the MySQL
// database when missing, creates missing tables, and pings.
//
// Open adds the settings the queries rely on. SQLite: WAL, busy_timeout
// 5 s, synchronous FULL (a _pragma in PATH setting one of these replaces
// it) and _txlock=immediate. MySQL: parseTime, loc=UTC, session time_zone
// '+00:00', interpolateParams, and clientFoundRows off.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if dsn == "" {
		dsn = DefaultDSN
	}
	scheme, rest, _ := strings.Cut(dsn, ":")
	switch Dialect(scheme) {
	case SQLite:
		return openSQLite(ctx, rest)
	case MySQL:
		return openMySQL(ctx, rest)
	}
	return nil, fmt.Errorf("database: open: %w: it must start with \"sqlite:\" or \"mysql:\", got %q", ErrBadDSN, scheme+":...")
}

func openSQLite(ctx context.Context, dsn string) (*DB, error) {
	path, query, _ := strings.Cut(dsn, "?")
	switch {
	case path == "":
		return nil, errors.New("database: open sqlite: empty path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		// A pool of :memory: connections would be a pool of separate databases.
		return nil, fmt.Errorf("database: open sqlite: %q: give a file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("database: open sqlite %s: %w", path, err)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("database: open sqlite %s: query: %w", path, err)
	}
	// The driver runs _pragma values in an order of its own, so a PRAGMA
	// the caller sets replaces ours rather than following it.
	q["_pragma"] = mergePragmas(sqlitePragmas(), q["_pragma"])
	q.Set("_txlock", "immediate") // PutImage's correctness depends on it

	sdb, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("database: open sqlite %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(sqliteMaxConns)
	sdb.SetMaxIdleConns(sqliteMaxConns)
	db := &DB{db: sdb, dialect: SQLite, writeSem: make(chan struct{}, 1), timeout: DefaultTimeout}
	if err := initSQLite(ctx, db); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("database: open sqlite %s: %w", path, err)
	}
	return db, nil
}

// initSQLite creates the schema, retrying while another process holds the new file's lock. The
// driver may run journal_mode(WAL) before busy_timeout on a fresh connection, so when two processes
// open a new file at once one of them can get SQLITE_BUSY at once instead of waiting (seen about
// once in 30 runs of TestSQLiteTwoHandles).
func initSQLite(ctx context.Context, db *DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.init(ctx, sqliteSchema)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked" (SQLITE_BUSY).
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY // the primary code, without extended bits
}

// mergePragmas returns the caller's pragmas plus those defaults that set a
// PRAGMA the caller does not.
func mergePragmas(defaults, caller []string) []string {
	name := func(p string) string {
		n, _, _ := strings.Cut(p, "(")
		n, _, _ = strings.Cut(n, "=")
		return strings.ToLower(strings.TrimSpace(n))
	}
	set := map[string]bool{}
	for _, p := range caller {
		set[name(p)] = true
	}
	out := slices.Clone(caller)
	for _, p := range defaults {
		if !set[name(p)] {
			out = append(out, p)
		}
	}
	return out
}

func openMySQL(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: open mysql: %w: %w", ErrBadDSN, err)
	}
	if cfg.DBName == "" {
		cfg.DBName = DefaultMySQLDatabase
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout // dialing a server that does not answer
	}
	// PutImage tells an insert from an existing row by the affected-row count.
	cfg.ClientFoundRows = false
	// One round trip per query with arguments instead of three (prepare,
	// execute, close); safe with the driver's default utf8mb4 collation,
	// and the driver refuses it with the few collations where it is not.
	cfg.InterpolateParams = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	name := describeMySQL(cfg)

	sdb, err := openMySQLPool(ctx, cfg)
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) && myErr.Number == mysqlErrBadDB {
		if err = createMySQLDatabase(ctx, cfg); err == nil {
			sdb, err = openMySQLPool(ctx, cfg)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("database: open mysql %s: %w", name, err)
	}
	db := &DB{db: sdb, dialect: MySQL, timeout: DefaultTimeout}
	if err := db.init(ctx, mysqlSchema); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("database: open mysql %s: %w", name, err)
	}
	return db, nil
}

// openMySQLPool opens a pool on cfg and pings it.
func openMySQLPool(ctx context.Context, cfg *mysql.Config) (*sql.DB, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	sdb := sql.OpenDB(conn)
	sdb.SetMaxOpenConns(mysqlMaxConns)
	sdb.SetMaxIdleConns(mysqlMaxConns)
	sdb.SetConnMaxLifetime(mysqlConnLifetime)
	sdb.SetConnMaxIdleTime(mysqlConnIdleTime)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	return sdb, nil
}

// createMySQLDatabase creates cfg.DBName through a connection that names no
// database. It is only tried after the server said the database is unknown,
// so a user without CREATE rights can still open an existing one.
func createMySQLDatabase(ctx context.Context, cfg *mysql.Config) error {
	root := cfg.Clone()
	root.DBName = ""
	conn, err := mysql.NewConnector(root)
	if err != nil {
		return err
	}
	sdb := sql.OpenDB(conn)
	defer sdb.Close()
	q := "CREATE DATABASE IF NOT EXISTS " + quoteIdent(cfg.DBName) + " CHARACTER SET utf8mb4"
	if _, err := sdb.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create database %s: %w", quoteIdent(cfg.DBName), err)
	}
	return nil
}

// quoteIdent quotes a MySQL identifier.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// describeMySQL names a MySQL server and database for messages, without the password.
func describeMySQL(cfg *mysql.Config) string {
	return fmt.Sprintf("%s@%s(%s)/%s", cfg.User, cfg.Net, cfg.Addr, cfg.DBName)
}

// init pings and creates the missing tables.
func (db *DB) init(ctx context.Context, schema string) error {
	if err := db.Ping(ctx); err != nil {
		return err
	}
	if err := db.addSortKey(ctx); err != nil {
		return fmt.Errorf("add images.sort_key: %w", err)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range splitStatements(schema) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create tables: %w", err)
			}
		}
		return db.migrate(ctx, tx)
	})
	if err != nil {
		return err
	}
	if err := db.fillSortKeys(ctx); err != nil {
		return fmt.Errorf("fill images.sort_key: %w", err)
	}
	if db.getImage, err = db.db.PrepareContext(ctx, getImageQuery); err != nil {
		return err
	}
	return db.prepareLookups(ctx)
}

// splitStatements cuts a schema file into statements. It drops whole-line
// "--" comments and splits at semicolons, which is enough for our own DDL
// (no semicolon inside a literal).
func splitStatements(schema string) []string {
	var b strings.Builder
	for line := range strings.Lines(schema) {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
	}
	var stmts []string
	for stmt := range strings.SplitSeq(b.String(), ";") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			stmts = append(stmts, stmt)
		}
	}
	return stmts
}

// Dialect reports which engine db talks to.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL returns the underlying pool, for what this package does not cover.
func (db *DB) SQL() *sql.DB { return db.db }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect, err)
	}
	return nil
}

// Close closes the pool. Closing twice is safe.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.getImage != nil {
			db.getImage.Close()
		}
		for _, stmt := range db.lookups {
			if stmt != nil {
				stmt.Close()
			}
		}
		db.closeErr = db.db.Close()
	})
	return db.closeErr
}

// lockWrite takes this process's SQLite write slot; unlock gives it back.
// On MySQL it does nothing.
func (db *DB) lockWrite(ctx context.Context) (unlock func(), err error) {
	if db.writeSem == nil {
		return func() {}, nil
	}
	select {
	case db.writeSem <- struct{}{}:
		return func() { <-db.writeSem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// exec runs one writing statement.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	unlock, err := db.lockWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return db.db.ExecContext(ctx, query, args...)
}

// inTx runs f in a writing transaction and commits it. On SQLite the
// transaction holds the write lock from BEGIN (_txlock=immediate). On MySQL
// a transaction that InnoDB chose as a deadlock victim has been rolled back
// whole, so it is run again, a bounded number of times; f must therefore
// keep its results in variables it resets on each call.
func (db *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	unlock, err := db.lockWrite(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		err := db.tryTx(ctx, f)
		var myErr *mysql.MySQLError
		if attempt < mysqlDeadlockRetry && errors.As(err, &myErr) && myErr.Number == mysqlErrDeadlock && ctx.Err() == nil {
			continue
		}
		return err
	}
}

func (db *DB) tryTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrCommitUnknown, err)
	}
	return nil
}
