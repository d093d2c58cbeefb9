// Command memfill measures the memcache service's resident memory: it sets the capacity through the
// database and /refresh_configuration, reads the process's RSS, fills the cache with values of one size,
// and reads the RSS again. It talks to a running service; scripts/bench-memcache.sh starts one.
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"imgcache/database"
	"imgcache/memcache/cache"
	"imgcache/memcache/client"
)

func main() {
	url := flag.String("memcache", "http://127.0.0.1:15001", "memcache base URL")
	dsn := flag.String("db", "", "the service's database DSN")
	pid := flag.Int("pid", 0, "the service's process id")
	capMB := flag.Int("capacity-mb", 256, "cache capacity to fill, MB")
	size := flag.Int("value", 100<<10, "bytes per stored value")
	flag.Parse()
	if err := run(*url, *dsn, *pid, *capMB, *size); err != nil {
		fmt.Fprintln(os.Stderr, "memfill:", err)
		os.Exit(1)
	}
}

func run(url, dsn string, pid, capMB, size int) error {
	ctx := context.Background()
	db, err := database.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.InsertCacheProperties(ctx, database.CacheProperties{MaxCapacityMB: capMB, Policy: cache.LRU.String()}); err != nil {
		return err
	}
	c, err := client.New(url, client.Options{Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	if err := c.Refresh(ctx); err != nil {
		return err
	}
	idle, err := rss(pid)
	if err != nil {
		return err
	}
	// One random base64 value of exactly size bytes, reused: the service copies each body it stores.
	raw := make([]byte, size/4*3)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	value := []byte(base64.StdEncoding.EncodeToString(raw))
	n := 0
	for ; ; n++ {
		st, err := c.Stats(ctx)
		if err != nil {
			return err
		}
		if st.Bytes+int64(len(value))+16 > st.Capacity {
			break
		}
		if err := c.Put(ctx, "value-"+strconv.Itoa(n), value); err != nil {
			return err
		}
	}
	st, err := c.Stats(ctx)
	if err != nil {
		return err
	}
	full, err := rss(pid)
	if err != nil {
		return err
	}
	grew := float64(full-idle) / float64(st.Capacity)
	fmt.Printf("go %s, %d values of %d bytes: stored %.1f MB of %.0f MB capacity\n", runtime.Version(), st.Items, len(value), mb(st.Bytes), mb(st.Capacity))
	fmt.Printf("RSS idle %.1f MB, full %.1f MB, growth %.1f MB = %.3f x capacity (target <= 1.15)\n", mb(idle), mb(full), mb(full-idle), grew)
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// rss reads VmRSS of a process from /proc.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
