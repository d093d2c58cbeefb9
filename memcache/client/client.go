// Package client is the typed client of the memcache service, speaking its binary wire format over
// pooled fasthttp connections.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"imgcache/memcache"
	"imgcache/memcache/cache"
	"imgcache/memcache/envelope"
)

// Defaults for a zero Options.
const (
	DefaultTimeout  = 2 * time.Second
	DefaultMaxConns = 512
)

// Errors a caller branches on. Anything else the service answered is an *envelope.Error with its status.
var (
	// ErrMiss: the key is not cached. Get returns it with the lease to fill the key.
	ErrMiss = errors.New("cache miss")
	// ErrLeaseRevoked: a fill came after an invalidation of its key and was refused.
	ErrLeaseRevoked = errors.New("lease revoked")
	// ErrUnavailable: the service could not be reached or did not answer in time.
	ErrUnavailable = errors.New("memcache unavailable")
)

// Options tunes a Client; zero values mean the defaults.
type Options struct {
	Timeout  time.Duration // per request, when the context has no earlier deadline
	MaxConns int           // pooled connections
}

// Client talks to one memcache service. It is safe for concurrent use.
type Client struct {
	hc      *fasthttp.HostClient
	base    string
	timeout time.Duration
}

// New returns a client for the service at baseURL (e.g. http://127.0.0.1:5001).
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("memcache URL %q: %w", baseURL, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("memcache URL %q: want http://host:port", baseURL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	return &Client{
		hc: &fasthttp.HostClient{
			Addr:                u.Host,
			Name:                "imgcache-backend",
			MaxConns:            opts.MaxConns,
			MaxIdleConnDuration: 30 * time.Second,
			// With every connection busy, wait for one rather than fail (and send the read to disk).
			MaxConnWaitTimeout:            opts.Timeout / 2,
			DisableHeaderNamesNormalizing: true,
			NoDefaultUserAgentHeader:      true,
			// Puts and invalidations are not idempotent in effect on leases: never resend them.
			RetryIfErr: func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		},
		base:    "http://" + u.Host,
		timeout: opts.Timeout,
	}, nil
}

// URL is the service's base URL.
func (c *Client) URL() string { return c.base }

// Close drops idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

func (c *Client) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// do sends req and returns resp; on a non-2xx answer it returns the service's error. The caller owns
// and releases both.
func (c *Client) do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.hc.DoDeadline(req, resp, c.deadline(ctx)); err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrUnavailable, req.Header.Method(), req.URI().Path(), err)
	}
	if code := resp.StatusCode(); code < 200 || code > 299 {
		return failure(resp)
	}
	return nil
}

// failure turns an error answer into an *envelope.Error, keeping the service's message.
func failure(resp *fasthttp.Response) error {
	var f envelope.Failure
	code := resp.StatusCode()
	if err := json.Unmarshal(resp.Body(), &f); err != nil || f.Error.Message == "" {
		return envelope.Errorf(code, "memcache answered %d", code)
	}
	return envelope.Errorf(code, "memcache: %s", f.Error.Message)
}

func (c *Client) request(method, path string) *fasthttp.Request {
	req := fasthttp.AcquireRequest()
	req.Header.SetMethod(method)
	req.SetRequestURI(c.base + path)
	return req
}

func keyURI(c *Client, path, key string, lease cache.Lease) string {
	var b strings.Builder
	b.WriteString(c.base)
	b.WriteString(path)
	b.WriteString("?key=")
	b.WriteString(url.QueryEscape(key))
	if lease != 0 {
		b.WriteString("&lease=")
		b.WriteString(strconv.FormatUint(uint64(lease), 10))
	}
	return b.String()
}

// AppendGet appends the cached value of key (its base64 text) to dst. On a miss it returns dst unchanged,
// an error wrapping ErrMiss, and the lease to pass to Fill (0 when the cache is off).
func (c *Client) AppendGet(ctx context.Context, dst []byte, key string) ([]byte, cache.Lease, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(http.MethodPost)
	req.SetRequestURI(keyURI(c, "/get_from_memcache", key, 0))
	err := c.do(ctx, req, resp)
	if err == nil {
		return append(dst, resp.Body()...), 0, nil
	}
	if resp.StatusCode() == http.StatusNotFound && !errors.Is(err, ErrUnavailable) {
		lease, _ := strconv.ParseUint(string(resp.Header.Peek("X-Lease")), 10, 64)
		return dst, cache.Lease(lease), fmt.Errorf("get %q: %w", key, ErrMiss)
	}
	return dst, 0, fmt.Errorf("get %q: %w", key, err)
}

// Get returns a copy of the cached value of key; see AppendGet.
func (c *Client) Get(ctx context.Context, key string) ([]byte, cache.Lease, error) {
	return c.AppendGet(ctx, nil, key)
}

// Put stores value under key unconditionally, revoking any outstanding lease of the key.
func (c *Client) Put(ctx context.Context, key string, value []byte) error {
	return c.put(ctx, key, value, 0)
}

// Fill stores value under key if lease is still valid; it returns an error wrapping ErrLeaseRevoked when
// the key was invalidated after the miss that handed out the lease.
func (c *Client) Fill(ctx context.Context, key string, value []byte, lease cache.Lease) error {
	if lease == 0 {
		return fmt.Errorf("fill %q: no lease", key)
	}
	return c.put(ctx, key, value, lease)
}

func (c *Client) put(ctx context.Context, key string, value []byte, lease cache.Lease) error {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(http.MethodPost)
	req.SetRequestURI(keyURI(c, "/put_into_memcache", key, lease))
	req.Header.SetContentType("application/octet-stream")
	req.SetBodyRaw(value)
	err := c.do(ctx, req, resp)
	if err != nil && resp.StatusCode() == http.StatusConflict && !errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("%w: %v", ErrLeaseRevoked, err)
	}
	if err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

// Invalidate removes key from the cache and revokes its outstanding lease.
func (c *Client) Invalidate(ctx context.Context, key string) error {
	if err := c.simple(ctx, keyURI(c, "/invalidate_specific_key", key, 0)); err != nil {
		return fmt.Errorf("invalidate %q: %w", key, err)
	}
	return nil
}

// Clear empties the cache and revokes every lease.
func (c *Client) Clear(ctx context.Context) error {
	if err := c.simple(ctx, c.base+"/clear_cache"); err != nil {
		return fmt.Errorf("clear: %w", err)
	}
	return nil
}

// Refresh asks the service to apply the newest cache_properties row now.
func (c *Client) Refresh(ctx context.Context) error {
	if err := c.simple(ctx, c.base+"/refresh_configuration"); err != nil {
		return fmt.Errorf("refresh configuration: %w", err)
	}
	return nil
}

// Stats returns the service's current gauges and counters.
func (c *Client) Stats(ctx context.Context) (memcache.Stats, error) {
	var st memcache.Stats
	req := c.request(http.MethodGet, "/stats")
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if err := c.do(ctx, req, resp); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	if err := json.Unmarshal(resp.Body(), &st); err != nil {
		return st, fmt.Errorf("stats: %w: %v", ErrUnavailable, err)
	}
	return st, nil
}

// Health reports whether the service answers.
func (c *Client) Health(ctx context.Context) error {
	req := c.request(http.MethodGet, "/healthz")
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if err := c.do(ctx, req, resp); err != nil {
		return fmt.Errorf("health: %w", err)
	}
	return nil
}

func (c *Client) simple(ctx context.Context, uri string) error {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(http.MethodPost)
	req.SetRequestURI(uri)
	return c.do(ctx, req, resp)
}
