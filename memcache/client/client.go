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
	"time"

	"github.com/valyala/fasthttp"

	"imgcache/memcache/wire"
)

// Defaults for a zero Options.
const (
	// DefaultTimeout bounds a get, put, fill or invalidation up to the answer's first byte. It is a
	// generous library default; the backend sets its own, much shorter one (-memcache-timeout).
	DefaultTimeout = 2 * time.Second
	// DefaultMinRate is the slowest transfer, in bytes a second, that a value's body is allowed on top
	// of the timeout: a 16 MB image on a slow link is not a node failure.
	DefaultMinRate = 4 << 20
	// DefaultControlTimeout bounds the calls that are not on a request's path (statistics, health,
	// clear, refresh): a refresh reads the database, a clear frees every value.
	DefaultControlTimeout = 2 * time.Second
	DefaultMaxConns       = 512
)

// expectedSize is the context key of WithExpectedSize.
type expectedSize struct{}

// WithExpectedSize tells a get under ctx how many bytes of value it expects, so that its deadline
// allows their transfer at the minimum rate.
func WithExpectedSize(ctx context.Context, bytes int) context.Context {
	return context.WithValue(ctx, expectedSize{}, bytes)
}

// StatusError is an answer of the service outside the outcomes of the wire package: a client error
// other than a miss or a refused fill. Server errors are wire.ErrUnavailable.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("memcache answered %d: %s", e.Code, e.Message)
}

// Options tunes a Client; zero values mean the defaults.
type Options struct {
	// Timeout bounds a data call (get, put, fill, invalidate) before the transfer of its value, which
	// MinRate (bytes a second) allows time for; ControlTimeout bounds every other call. The context's
	// deadline applies when it is earlier.
	Timeout        time.Duration
	MinRate        int
	ControlTimeout time.Duration
	MaxConns       int    // pooled connections
	Secret         string // the service's shared secret, sent with every request; "" sends none
}

// Client talks to one memcache service. It is safe for concurrent use.
type Client struct {
	hc      *fasthttp.HostClient
	base    string
	timeout time.Duration
	control time.Duration
	minRate int
	auth    string // the Authorization header, or ""
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
	if opts.MinRate <= 0 {
		opts.MinRate = DefaultMinRate
	}
	if opts.ControlTimeout <= 0 {
		opts.ControlTimeout = DefaultControlTimeout
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
		control: opts.ControlTimeout,
		minRate: opts.MinRate,
		auth:    auth(opts.Secret),
	}, nil
}

func auth(secret string) string {
	if secret == "" {
		return ""
	}
	return wire.Bearer(secret)
}

// URL is the service's base URL.
func (c *Client) URL() string { return c.base }

// Close drops idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// deadline is the deadline of a call bounded by timeout that moves size bytes of value.
func (c *Client) deadline(ctx context.Context, timeout time.Duration, size int) time.Time {
	d := time.Now().Add(timeout + time.Duration(float64(size)/float64(c.minRate)*float64(time.Second)))
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// do sends req and returns resp, bounded by the data timeout and the transfer of size bytes; see
// doWithin.
func (c *Client) do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, size int) error {
	return c.doWithin(ctx, req, resp, c.deadline(ctx, c.timeout, size))
}

// doWithin sends req and returns resp; on a non-2xx answer it returns the service's error: a 5xx wraps
// wire.ErrUnavailable, a 404 wire.ErrMiss, a 409 wire.ErrLeaseRevoked, any other a *StatusError. The
// caller owns and releases both.
func (c *Client) doWithin(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", wire.ErrUnavailable, err)
	}
	if c.auth != "" {
		req.Header.Set(wire.HeaderAuthorization, c.auth)
	}
	if err := c.hc.DoDeadline(req, resp, deadline); err != nil {
		return fmt.Errorf("%w: %s %s: %v", wire.ErrUnavailable, req.Header.Method(), req.URI().Path(), err)
	}
	code := resp.StatusCode()
	if code >= 200 && code <= 299 {
		return nil
	}
	var f wire.Failure
	msg := fmt.Sprintf("status %d", code)
	if err := json.Unmarshal(resp.Body(), &f); err == nil && f.Error.Message != "" {
		msg = f.Error.Message
	}
	switch {
	case code >= 500:
		return fmt.Errorf("%w: memcache answered %d: %s", wire.ErrUnavailable, code, msg)
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		// A wrong secret makes the cache as good as down for this caller, and says why in the log.
		return fmt.Errorf("%w: %w: memcache answered %d: %s", wire.ErrUnavailable, wire.ErrUnauthorized, code, msg)
	case code == http.StatusNotFound && string(req.URI().Path()) == wire.PathGet:
		return fmt.Errorf("%w: %s", wire.ErrMiss, msg)
	case code == http.StatusConflict:
		return fmt.Errorf("%w: %s", wire.ErrLeaseRevoked, msg)
	}
	return &StatusError{Code: code, Message: msg}
}

func (c *Client) request(method, path string) *fasthttp.Request {
	req := fasthttp.AcquireRequest()
	req.Header.SetMethod(method)
	req.SetRequestURI(c.base + path)
	return req
}

// AppendGet appends the cached value of key (its base64 text) to dst. On a miss it returns dst unchanged,
// an error wrapping wire.ErrMiss, and the lease to pass to Fill (0 when the cache is off).
func (c *Client) AppendGet(ctx context.Context, dst []byte, key string) ([]byte, wire.Lease, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(http.MethodPost)
	req.SetRequestURI(wire.KeyURL(c.base, wire.PathGet, key, 0))
	size, _ := ctx.Value(expectedSize{}).(int)
	err := c.do(ctx, req, resp, size)
	if err == nil {
		return append(dst, resp.Body()...), 0, nil
	}
	if errors.Is(err, wire.ErrMiss) {
		lease, _ := wire.ParseLease(string(resp.Header.Peek(wire.HeaderLease)))
		return dst, lease, fmt.Errorf("get %q: %w", key, err)
	}
	return dst, 0, fmt.Errorf("get %q: %w", key, err)
}

// Get returns a copy of the cached value of key; see AppendGet.
func (c *Client) Get(ctx context.Context, key string) ([]byte, wire.Lease, error) {
	return c.AppendGet(ctx, nil, key)
}

// Put stores value under key unconditionally, revoking any outstanding lease of the key.
func (c *Client) Put(ctx context.Context, key string, value []byte) error {
	return c.put(ctx, key, value, 0)
}

// Fill stores value under key if lease is still valid; it returns an error wrapping wire.ErrLeaseRevoked
// when the key was invalidated after the miss that handed out the lease.
func (c *Client) Fill(ctx context.Context, key string, value []byte, lease wire.Lease) error {
	if lease == 0 {
		return fmt.Errorf("fill %q: no lease", key)
	}
	return c.put(ctx, key, value, lease)
}

func (c *Client) put(ctx context.Context, key string, value []byte, lease wire.Lease) error {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(http.MethodPost)
	req.SetRequestURI(wire.KeyURL(c.base, wire.PathPut, key, lease))
	req.Header.SetContentType(wire.ContentTypeRaw)
	req.SetBodyRaw(value)
	if err := c.do(ctx, req, resp, len(value)); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

// Invalidate removes key from the cache and revokes its outstanding lease.
func (c *Client) Invalidate(ctx context.Context, key string) error {
	if err := c.simple(ctx, wire.KeyURL(c.base, wire.PathInvalidate, key, 0), c.timeout); err != nil {
		return fmt.Errorf("invalidate %q: %w", key, err)
	}
	return nil
}

// Clear empties the cache and revokes every lease.
func (c *Client) Clear(ctx context.Context) error {
	if err := c.simple(ctx, c.base+wire.PathClear, c.control); err != nil {
		return fmt.Errorf("clear: %w", err)
	}
	return nil
}

// Refresh asks the service to apply the newest cache_properties row now.
func (c *Client) Refresh(ctx context.Context) error {
	if err := c.simple(ctx, c.base+wire.PathRefresh, c.control); err != nil {
		return fmt.Errorf("refresh configuration: %w", err)
	}
	return nil
}

// Stats returns the service's current gauges and counters.
func (c *Client) Stats(ctx context.Context) (wire.Stats, error) {
	var st wire.Stats
	req := c.request(http.MethodGet, wire.PathStats)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if err := c.doWithin(ctx, req, resp, c.deadline(ctx, c.control, 0)); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	if err := json.Unmarshal(resp.Body(), &st); err != nil {
		return st, fmt.Errorf("stats: %w: %v", wire.ErrUnavailable, err)
	}
	return st, nil
}

// Health reports whether the service answers.
func (c *Client) Health(ctx context.Context) error {
	req := c.request(http.MethodGet, wire.PathHealth)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if err := c.doWithin(ctx, req, resp, c.deadline(ctx, c.control, 0)); err != nil {
		return fmt.Errorf("health: %w", err)
	}
	return nil
}

func (c *Client) simple(ctx context.Context, uri string, timeout time.Duration) error {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(http.MethodPost)
	req.SetRequestURI(uri)
	return c.doWithin(ctx, req, resp, c.deadline(ctx, timeout, 0))
}
