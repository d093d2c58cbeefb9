package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"imgcache/app/api"
)

// Cache policies of the run matrix. PolicyOff is the baseline: capacity 0 turns caching off.
const (
	PolicyLRU    = "LRU"
	PolicyRandom = "Random"
	PolicyOff    = "off"
)

// CacheStats is the memcache's GET /stats answer; counters are cumulative since it started.
type CacheStats struct {
	Items        int64  `json:"items"`
	Bytes        int64  `json:"bytes"`
	Capacity     int64  `json:"capacity"`
	CapacityMB   int64  `json:"capacity_mb"`
	Policy       string `json:"policy"`
	Requests     int64  `json:"requests"`
	Gets         int64  `json:"gets"`
	Hits         int64  `json:"hits"`
	Misses       int64  `json:"misses"`
	Puts         int64  `json:"puts"`
	Fills        int64  `json:"fills"`
	RefusedFills int64  `json:"refused_fills"`
	Evictions    int64  `json:"evictions"`
}

// Control talks to the services outside the attacks: health, cache configuration, statistics,
// uploads of the data set. MemcacheURL may be empty: then there are no statistics.
type Control struct {
	BackendURL  string
	MemcacheURL string
	HTTP        *http.Client // nil means a client with a 30 s timeout that does not follow redirects
}

func (c *Control) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends a request and returns the status and body; it never follows redirects.
func (c *Control) do(ctx context.Context, method, u string, body io.Reader, header http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// Healthy returns nil once both services answer GET /healthz with 200.
func (c *Control) Healthy(ctx context.Context) error {
	for _, base := range []string{c.BackendURL, c.MemcacheURL} {
		if base == "" {
			continue
		}
		code, body, err := c.do(ctx, http.MethodGet, base+"/healthz", nil, nil)
		if err != nil {
			return fmt.Errorf("health of %s: %w", base, err)
		}
		if code != http.StatusOK {
			return fmt.Errorf("health of %s: status %d %q: %w", base, code, snippet(body), ErrService)
		}
	}
	return nil
}

// WaitHealthy polls Healthy until it succeeds, ctx ends or timeout passes.
func (c *Control) WaitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Healthy(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("services not healthy after %v: %w", timeout, err)
		case <-tick.C:
		}
	}
}

// SetCache sets the capacity (whole MB; 0 turns caching off) and policy through the backend's
// cache-properties form, the path a user takes.
func (c *Control) SetCache(ctx context.Context, capacityMB int, policy string) error {
	token := formToken()
	form := url.Values{"capacity": {strconv.Itoa(capacityMB)}, "policy": {policy}, api.FormTokenField: {token}}
	code, body, err := c.do(ctx, http.MethodPost, c.BackendURL+"/cache_properties",
		strings.NewReader(form.Encode()), formHeader(token, "application/x-www-form-urlencoded"))
	if err != nil {
		return fmt.Errorf("set cache %d MB %s: %w", capacityMB, policy, err)
	}
	if code >= 400 {
		return fmt.Errorf("set cache %d MB %s: status %d %q: %w", capacityMB, policy, code, snippet(body), ErrService)
	}
	return nil
}

// ClearCache empties the cache through the backend.
func (c *Control) ClearCache(ctx context.Context) error {
	token := formToken()
	form := url.Values{api.FormTokenField: {token}}
	code, body, err := c.do(ctx, http.MethodPost, c.BackendURL+"/cache_properties/clear",
		strings.NewReader(form.Encode()), formHeader(token, "application/x-www-form-urlencoded"))
	if err != nil {
		return fmt.Errorf("clear cache: %w", err)
	}
	if code >= 400 {
		return fmt.Errorf("clear cache: status %d %q: %w", code, snippet(body), ErrService)
	}
	return nil
}

// formToken is a fresh form token: the pages' forms want one in a field and the same in a cookie,
// as a browser sends them after loading the page.
func formToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand aborts the program instead
	return hex.EncodeToString(b)
}

// formHeader is the header of a page form post carrying token.
func formHeader(token, contentType string) http.Header {
	return http.Header{"Content-Type": {contentType}, "Cookie": {api.FormTokenCookie + "=" + token}}
}

// ErrNoStats reports that no memcache URL was given.
var ErrNoStats = errors.New("no memcache URL, so no cache statistics")

// Stats reads the memcache's counters.
func (c *Control) Stats(ctx context.Context) (CacheStats, error) {
	if c.MemcacheURL == "" {
		return CacheStats{}, ErrNoStats
	}
	code, body, err := c.do(ctx, http.MethodGet, c.MemcacheURL+"/stats", nil, nil)
	if err != nil {
		return CacheStats{}, fmt.Errorf("memcache stats: %w", err)
	}
	if code != http.StatusOK {
		return CacheStats{}, fmt.Errorf("memcache stats: status %d %q: %w", code, snippet(body), ErrService)
	}
	var st CacheStats
	if err := json.Unmarshal(body, &st); err != nil {
		return CacheStats{}, fmt.Errorf("memcache stats: %w", err)
	}
	return st, nil
}

// UploadAll uploads version 0 of every key of w, conc at a time, so that each series starts
// from the same stored images.
func (c *Control) UploadAll(ctx context.Context, w *Workload, conc int) error {
	conc = max(conc, 1)
	var (
		wg    sync.WaitGroup
		next  = make(chan int)
		mu    sync.Mutex
		first error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range conc {
		wg.Go(func() {
			for i := range next {
				t := w.Initial(i)
				code, body, err := c.do(ctx, t.Method, t.URL, bytes.NewReader(t.Body), t.Header)
				if err == nil && code != http.StatusOK {
					err = fmt.Errorf("status %d %q: %w", code, snippet(body), ErrService)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("upload key %d: %w", i, err)
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
feed:
	for i := range w.Keys() {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}

// snippet shortens a body for an error message.
func snippet(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
