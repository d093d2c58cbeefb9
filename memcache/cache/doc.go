// Package cache is the byte-bounded key/value store behind the memcache service: LRU, Random Replacement, SIEVE and S3-FIFO eviction, leases and counters.
package cache
