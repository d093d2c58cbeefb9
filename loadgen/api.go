package loadgen

import (
	"bytes"
	"cmp"
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
	"imgcache/memcache/wire"
)

// Control talks to the services outside the attacks: health, cache configuration, statistics,
// uploads of the data set. With no memcache URLs there are no statistics.
type Control struct {
	BackendURL string
	// MemcacheURLs are the memcache nodes whose /stats are summed: one, or every node of a pool.
	MemcacheURLs []string
	// Secret is the memcache's shared secret (IMGCACHE_MEMCACHE_SECRET), sent with /stats;
	// empty sends none, which a memcache on loopback without a secret accepts.
	Secret string
	HTTP   *http.Client // nil means a client with a 30 s timeout that does not follow redirects
	// RetryPause is the pause between SetCache's tries; 0 means DefaultRetryPause.
	RetryPause time.Duration
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
	code, _, b, err := c.exchange(ctx, method, u, body, header)
	return code, b, err
}

// exchange is do that also returns the answer's header.
func (c *Control) exchange(ctx context.Context, method, u string, body io.Reader, header http.Header) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, b, err
}

// Healthy returns nil once both services answer GET /healthz with 200.
func (c *Control) Healthy(ctx context.Context) error {
	paths := map[string]string{c.BackendURL: api.PathHealth}
	for _, u := range c.MemcacheURLs {
		paths[u] = wire.PathHealth
	}
	for base, path := range paths {
		if base == "" {
			continue
		}
		code, body, err := c.do(ctx, http.MethodGet, base+path, nil, nil)
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
// cache-properties form, the path a user takes. The backend saves the settings, then tells the
// memcache; when the memcache did not take them in time (busy draining a saturated step, say) the
// form answers "saved, pending", and SetCache asks again, up to setCacheTries times.
func (c *Control) SetCache(ctx context.Context, capacityMB int, policy string) error {
	for try := 1; ; try++ {
		token := formToken()
		form := url.Values{"capacity": {strconv.Itoa(capacityMB)}, "policy": {policy}, api.FormTokenField: {token}}
		code, header, body, err := c.exchange(ctx, http.MethodPost, c.BackendURL+api.PathCacheProperties,
			strings.NewReader(form.Encode()), formHeader(token, "application/x-www-form-urlencoded"))
		if err != nil {
			return fmt.Errorf("set cache %d MB %s: %w", capacityMB, policy, err)
		}
		if code >= 400 {
			return fmt.Errorf("set cache %d MB %s: status %d %q: %w", capacityMB, policy, code, snippet(body), ErrService)
		}
		if !strings.Contains(header.Get("Location"), savedPending) {
			return nil
		}
		if try == setCacheTries {
			return fmt.Errorf("set cache %d MB %s: saved, but the memcache did not apply it after %d tries: %w", capacityMB, policy, try, ErrService)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set cache %d MB %s: %w", capacityMB, policy, ctx.Err())
		case <-time.After(cmp.Or(c.RetryPause, DefaultRetryPause)):
		}
	}
}

// The properties form's redirect when the memcache could not be told, and how often SetCache tries.
const (
	savedPending  = "saved=pending"
	setCacheTries = 10
)

// DefaultRetryPause is Control.RetryPause's default: a memcache draining a saturated step's backlog
// takes seconds, not minutes.
const DefaultRetryPause = time.Second

// ClearCache empties the cache through the backend.
func (c *Control) ClearCache(ctx context.Context) error {
	token := formToken()
	form := url.Values{api.FormTokenField: {token}}
	code, body, err := c.do(ctx, http.MethodPost, c.BackendURL+api.PathClearCache,
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

// Stats reads the memcache's counters, summed over MemcacheURLs. Capacity and policy are the
// first node's: every node of a pool reads them from the same database row.
func (c *Control) Stats(ctx context.Context) (wire.Stats, error) {
	var sum wire.Stats
	if len(c.MemcacheURLs) == 0 {
		return sum, ErrNoStats
	}
	var header http.Header
	if c.Secret != "" {
		header = http.Header{wire.HeaderAuthorization: {wire.Bearer(c.Secret)}}
	}
	for i, base := range c.MemcacheURLs {
		code, body, err := c.do(ctx, http.MethodGet, base+wire.PathStats, nil, header)
		if err != nil {
			return wire.Stats{}, fmt.Errorf("memcache stats of %s: %w", base, err)
		}
		if code != http.StatusOK {
			return wire.Stats{}, fmt.Errorf("memcache stats of %s: status %d %q: %w", base, code, snippet(body), ErrService)
		}
		var st wire.Stats
		if err := json.Unmarshal(body, &st); err != nil {
			return wire.Stats{}, fmt.Errorf("memcache stats of %s: %w", base, err)
		}
		if i == 0 {
			sum = st
			continue
		}
		sum.Add(st)
	}
	return sum, nil
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
