package database_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"imgcache/database"
	"imgcache/database/dbtest"
)

// sharedKeys are written by both openers in the two-writer tests.
var sharedKeys = []string{"shared-1", "shared-2", "shared-3"}

// TestSQLiteTwoHandles opens one new file twice at the same moment, as the
// two services do on a first start, and writes through both at once: no
// SQLITE_BUSY may surface, and no write may be lost.
func TestSQLiteTwoHandles(t *testing.T) {
	dsn := dbtest.DSN(t, database.SQLite)
	ctx := context.Background()

	var dbs [2]*database.DB
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Go(func() {
			db, err := database.Open(ctx, dsn)
			if err != nil {
				t.Errorf("Open #%d: %v", i, err)
				return
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	const workers, perWorker = 4, 50
	var (
		mu   sync.Mutex
		puts []put
	)
	for i, db := range dbs {
		wg.Go(func() {
			p := putConcurrently(t, db, fmt.Sprintf("db%d", i), workers, perWorker, sharedKeys)
			mu.Lock()
			puts = append(puts, p...)
			mu.Unlock()
		})
		wg.Go(func() {
			for j := range workers * perWorker {
				if err := db.InsertStats(ctx, database.StatsRow{KeyCount: int64(j)}); err != nil {
					t.Errorf("db%d InsertStats: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()

	if len(puts) != 2*workers*perWorker {
		t.Errorf("%d puts succeeded, want %d", len(puts), 2*workers*perWorker)
	}
	checkPuts(t, dbs[0], puts)
	rows, err := dbs[1].StatsSince(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*workers*perWorker {
		t.Errorf("StatsSince found %d rows, want %d", len(rows), 2*workers*perWorker)
	}
}

// Environment of the child process of TestSQLiteTwoProcesses.
const (
	envChildDSN = "IMGCACHE_DATABASE_TEST_CHILD_DSN"
	envChildOut = "IMGCACHE_DATABASE_TEST_CHILD_OUT"
)

const childPuts = 150

// TestSQLiteTwoProcesses runs this test binary a second time as another
// process on the same file (the backend and the memcache service share it),
// and both write at once. Every put's previous location must still be
// accounted for exactly once across the two processes.
func TestSQLiteTwoProcesses(t *testing.T) {
	if os.Getenv(envChildDSN) != "" {
		t.Skip("in the child process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary: %v", err)
	}
	dsn := dbtest.DSN(t, database.SQLite)
	db := open(t, dsn) // creates the file and the tables first
	ctx := context.Background()

	out := filepath.Join(t.TempDir(), "child.json")
	cmd := exec.Command(exe, "-test.run=^TestSQLiteChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChildDSN+"="+dsn, envChildOut+"="+out)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child has opened the database, then start together.
	lines := bufio.NewScanner(stdout)
	var childLog []string
	for lines.Scan() && lines.Text() != "READY" {
		childLog = append(childLog, lines.Text())
	}
	if _, err := fmt.Fprintln(stdin, "GO"); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not get ready: %v; output: %q", err, childLog)
	}
	stdin.Close()

	var stats sync.WaitGroup
	stats.Go(func() {
		for j := range childPuts {
			if err := db.InsertStats(ctx, database.StatsRow{KeyCount: int64(j)}); err != nil {
				t.Errorf("parent InsertStats: %v", err)
				return
			}
		}
	})
	puts := putConcurrently(t, db, "parent", 3, childPuts/3, sharedKeys)
	stats.Wait()
	for lines.Scan() {
		childLog = append(childLog, lines.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child process: %v; output: %q", err, childLog)
	}

	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("child results: %v; output: %q", err, childLog)
	}
	var childPutsDone []put
	if err := json.Unmarshal(data, &childPutsDone); err != nil {
		t.Fatal(err)
	}
	if len(childPutsDone) != childPuts {
		t.Errorf("child made %d puts, want %d", len(childPutsDone), childPuts)
	}
	checkPuts(t, db, append(puts, childPutsDone...))
	rows, err := db.StatsSince(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*childPuts {
		t.Errorf("StatsSince found %d rows, want %d", len(rows), 2*childPuts)
	}
}

// TestSQLiteChildProcess is the second process of TestSQLiteTwoProcesses.
func TestSQLiteChildProcess(t *testing.T) {
	dsn := os.Getenv(envChildDSN)
	if dsn == "" {
		t.Skip("only run as the child of TestSQLiteTwoProcesses")
	}
	ctx := context.Background()
	db := open(t, dsn)
	fmt.Println("READY")
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil || line != "GO\n" {
		t.Fatalf("waiting for GO: %q, %v", line, err)
	}

	var stats sync.WaitGroup
	stats.Go(func() {
		for j := range childPuts {
			if err := db.InsertStats(ctx, database.StatsRow{KeyCount: int64(j)}); err != nil {
				t.Errorf("child InsertStats: %v", err)
				return
			}
		}
	})
	puts := putConcurrently(t, db, "child", 3, childPuts/3, sharedKeys)
	stats.Wait()
	data, err := json.Marshal(puts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv(envChildOut), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
