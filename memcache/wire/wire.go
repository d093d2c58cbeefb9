// Package wire is the memcache service's HTTP contract: its paths, the lease a miss hands out, the
// statistics shape, the failure envelope, the policy names and the two encodings of a request. The
// server, its client and loadgen share it; it imports nothing of imgcache.
package wire

import (
	"errors"
	"strconv"
)

// The service's endpoints.
const (
	PathGet        = "/get_from_memcache"
	PathPut        = "/put_into_memcache"
	PathInvalidate = "/invalidate_specific_key"
	PathClear      = "/clear_cache"
	PathRefresh    = "/refresh_configuration"
	PathStats      = "/stats"
	PathHealth     = "/healthz"
	PathMRC        = "/mrc"
	PathMetrics    = "/metrics"
)

// Binary mode: a request whose query string carries key=... sends the value as the raw body (the
// base64 text itself, no JSON around it) and the lease in the query; a hit answers the value as the
// raw body and a miss its lease in HeaderLease. It spares the value a JSON encoding on both sides.
const (
	QueryKey    = "key"
	QueryLease  = "lease"
	HeaderLease = "X-Lease"

	ContentTypeJSON = "application/json"
	ContentTypeRaw  = "application/octet-stream"
)

// MaxKeyLen bounds keys in bytes. The backend's own rule (255) is stricter; the service only guards
// itself against absurd keys.
const MaxKeyLen = 1024

// Lease is the token a miss hands out. Only a fill carrying the key's outstanding lease is stored, so
// a value read before an invalidation can never be cached after it. The zero Lease is no lease.
type Lease uint64

// String writes the lease as it travels: a decimal number.
func (l Lease) String() string { return strconv.FormatUint(uint64(l), 10) }

// ParseLease reads a lease as it travels.
func ParseLease(s string) (Lease, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, malformed("lease %q is not a whole number", s)
	}
	return Lease(n), nil
}

// Outcomes a caller of the service branches on, whichever encoding carried them.
var (
	// ErrMiss: the key is not cached (404 from PathGet, with a lease).
	ErrMiss = errors.New("cache miss")
	// ErrLeaseRevoked: a fill came after an invalidation, clear or put of its key and was refused
	// (409 from PathPut).
	ErrLeaseRevoked = errors.New("lease revoked")
	// ErrMalformed: the request could not be understood (400).
	ErrMalformed = errors.New("malformed request")
	// ErrUnavailable: the service could not be reached, did not answer in time, or failed (5xx).
	ErrUnavailable = errors.New("memcache unavailable")
	// ErrUnauthorized: the request lacked the service's secret, or carried another (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: a browser-style request (an Origin header); the service is internal (403).
	ErrForbidden = errors.New("forbidden")
)

// HeaderAuthorization carries the shared secret as "Bearer SECRET" on every request but PathHealth,
// whenever the service has a secret.
const HeaderAuthorization = "Authorization"

// Bearer is the Authorization value for secret.
func Bearer(secret string) string { return "Bearer " + secret }

// True and False are the string values of the contract's "success" field: the original design used
// strings, not JSON booleans, and its clients compare them as text.
const (
	True  = "true"
	False = "false"
)

// Failure is the body of every failed request, on the memcache and on the backend's API.
type Failure struct {
	Success string      `json:"success"`
	Error   FailureBody `json:"error"`
}

// FailureBody is the "error" object inside a Failure.
type FailureBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// NewFailure is the failure body of status code with message.
func NewFailure(code int, message string) Failure {
	return Failure{Success: False, Error: FailureBody{Code: code, Message: message}}
}

// Miss is the body of a miss: the failure shape plus the lease to fill the key with.
type Miss struct {
	Failure
	Lease Lease `json:"lease,omitempty"`
}

// OK is the body of a success that carries nothing else.
type OK struct {
	Success string `json:"success"`
}

// Hit is the JSON body of a hit.
type Hit struct {
	Success string `json:"success"`
	Key     string `json:"key"`
	Value   string `json:"value"`
}

// Invalidated is the body of PathInvalidate.
type Invalidated struct {
	Success string `json:"success"`
	Key     string `json:"key"`
	Removed bool   `json:"removed"`
}

// Configured is the body of PathRefresh.
type Configured struct {
	Success    string `json:"success"`
	CapacityMB int    `json:"capacity_mb"`
	Policy     string `json:"policy"`
}

// Health is the body of PathHealth, which needs no secret: the service answers 200 while it serves,
// and reports whether its database answers (it serves without it, on its last configuration).
type Health struct {
	Success  string `json:"success"`
	Database string `json:"database"` // "ok" or "unreachable"
}

// MRC is the body of PathMRC: the node's live miss-ratio curve, estimated by simulating every
// policy on a sample of its keys (SHARDS) at multiples of its capacity, since its capacity last
// changed.
type MRC struct {
	Success  string     `json:"success"`
	Capacity int64      `json:"capacity"` // bytes; the curve's sizes are multiples of it
	Rate     float64    `json:"rate"`     // the share of keys sampled now
	Keys     int        `json:"keys"`     // keys sampled now
	Accesses uint64     `json:"accesses"` // sampled lookups simulated
	Dropped  uint64     `json:"dropped"`  // sampled lookups dropped because the simulations lagged
	Curves   []MRCCurve `json:"curves"`
}

// MRCCurve is one policy's estimated hit rates, smallest size first.
type MRCCurve struct {
	Policy string     `json:"policy"`
	Points []MRCPoint `json:"points"`
}

// MRCPoint is the estimated hit rate of a cache of Bytes.
type MRCPoint struct {
	Bytes   int64   `json:"bytes"`
	HitRate float64 `json:"hit_rate"`
}

// Stats is the body of PathStats: gauges now and counters since the service started.
type Stats struct {
	Success       string `json:"success"`
	Items         int    `json:"items"`
	Bytes         int64  `json:"bytes"`
	Capacity      int64  `json:"capacity"`
	CapacityMB    int64  `json:"capacity_mb"`
	Policy        string `json:"policy"`
	Requests      uint64 `json:"requests"`
	Gets          uint64 `json:"gets"`
	Hits          uint64 `json:"hits"`
	Misses        uint64 `json:"misses"`
	Puts          uint64 `json:"puts"`
	Fills         uint64 `json:"fills"`
	RefusedFills  uint64 `json:"refused_fills"`
	Evictions     uint64 `json:"evictions"`
	Invalidations uint64 `json:"invalidations"`
}

// Add adds o's gauges and counters (items, bytes and every request count) to s, for the sum over the
// nodes of a pool. Capacity and policy are configuration: whether to add or compare them is the
// caller's choice.
func (s *Stats) Add(o Stats) {
	s.Items += o.Items
	s.Bytes += o.Bytes
	s.Requests += o.Requests
	s.Gets += o.Gets
	s.Hits += o.Hits
	s.Misses += o.Misses
	s.Puts += o.Puts
	s.Fills += o.Fills
	s.RefusedFills += o.RefusedFills
	s.Evictions += o.Evictions
	s.Invalidations += o.Invalidations
}
