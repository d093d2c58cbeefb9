// Package api is the backend's JSON API contract: its paths, form fields and answers. The backend,
// loadgen and tests share it; it imports nothing of imgcache but the failure shape it shares with the
// memcache.
package api

import (
	"net/url"

	"imgcache/memcache/wire"
)

// The API's endpoints. Parameters travel in the request body (multipart form fields), never in the
// URL query.
const (
	PathUpload    = "/api/upload"
	PathListKeys  = "/api/list_keys"
	PathKeyPrefix = "/api/key/" // followed by the key, path-escaped
	// PathDeletePrefix, followed by the key path-escaped, deletes that key's image.
	PathDeletePrefix = "/api/delete/"
	PathDeleteAll    = "/api/delete_all"
	// PathPool (GET) answers the memcache pool as this backend sees it: Pool.
	PathPool   = "/api/pool"
	PathHealth = "/healthz"
	Prefix     = "/api/" // every API path starts with it; errors under it are JSON
)

// Form fields of PathUpload.
const (
	FieldKey  = "key"
	FieldFile = "file"
)

// The pages' forms that change something (/upload_image, /cache_properties, /cache_properties/clear,
// /keys_list/delete, /keys_list/delete_all) carry a token in the field FormTokenField that must equal the cookie FormTokenCookie: 64 hex digits,
// which the pages set and a program may choose itself, as long as it sends both.
const (
	FormTokenCookie = "imgcache_csrf"
	FormTokenField  = "csrf"
)

// The pages' forms that programs drive too (loadgen), each with the form token: the cache's
// capacity and policy (fields "capacity", in MB, and "policy"), clearing the cache, and a memcache
// node's state (fields "node", its id, and "state", NodeActive or NodeStandby). Each answers 303.
const (
	PathCacheProperties = "/cache_properties"
	PathClearCache      = "/cache_properties/clear"
	PathPoolNode        = "/pool/node"
)

// MaxKeyLen is the longest key in bytes (the images.key column is VARCHAR(255)).
const MaxKeyLen = 255

// KeyPath is the path of PathKeyPrefix for key. Keys may hold "/" and any other character, so the key
// is path-escaped.
func KeyPath(key string) string { return PathKeyPrefix + url.PathEscape(key) }

// DeletePath is the path of PathDeletePrefix for key, path-escaped as in KeyPath.
func DeletePath(key string) string { return PathDeletePrefix + url.PathEscape(key) }

// True is the "success" value of every successful answer.
const True = wire.True

// Failure is the body of every failed request: {"success":"false","error":{"code":N,"message":M}},
// answered with HTTP status N.
type Failure = wire.Failure

// Uploaded answers PathUpload.
type Uploaded struct {
	Success string `json:"success"`
	Key     string `json:"key"`
}

// Keys answers PathListKeys.
type Keys struct {
	Success string   `json:"success"`
	Keys    []string `json:"keys"`
}

// Node states of the pool's table: an active node is routed to while it heartbeats; a standby node
// waits to be activated (pool page, or the auto-scaler).
const (
	NodeActive  = "active"
	NodeStandby = "standby"
)

// Pool answers PathPool: the nodes of the pool's table, and how many of them this backend routes to
// now (backends follow the table about once a second, so two backends may differ for that long).
type Pool struct {
	Success string     `json:"success"`
	Nodes   []PoolNode `json:"nodes"`
	Routed  int        `json:"routed"`
}

// PoolNode is one memcache node of Pool.
type PoolNode struct {
	ID      int64  `json:"id"`
	Address string `json:"address"` // the URL backends reach it at
	State   string `json:"state"`   // NodeActive or NodeStandby
	Alive   bool   `json:"alive"`   // it heartbeats
	Routed  bool   `json:"routed"`  // this backend routes keys to it now
}

// Image answers PathKeyPrefix: the stored file's bytes, base64.
type Image struct {
	Success string `json:"success"`
	Key     string `json:"key"`
	Content string `json:"content"`
}

// Deleted answers PathDeletePrefix: the key whose image, row and cache entry are gone. An unknown key
// is a 404 Failure.
type Deleted struct {
	Success string `json:"success"`
	Key     string `json:"key"`
}

// OK answers PathDeleteAll.
type OK = wire.OK

// States of a dependency in Health.
const (
	StateOK          = "ok"
	StateUnreachable = "unreachable"
	// StateDraining is the backend's own state once it was told to stop: it still serves, but a load
	// balancer should send it nothing new.
	StateDraining = "draining"
)

// Health answers PathHealth: 200 while the backend can serve, 503 (with Error) when its database does
// not answer or it is draining before a stop, so that a load balancer takes it out. A memcache that
// does not answer only slows reads, so it is reported but keeps the 200.
type Health struct {
	Success  string            `json:"success"`
	Backend  string            `json:"backend"` // StateOK, or StateDraining
	Database string            `json:"database"`
	Memcache string            `json:"memcache"`
	Error    *wire.FailureBody `json:"error,omitempty"`
}
