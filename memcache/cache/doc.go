// Package cache is the byte-bounded key/value store behind the memcache service: LRU and Random Replacement eviction, leases and counters.
package cache
