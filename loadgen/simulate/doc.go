// Package simulate replays cache traces offline through the memcache's own store and Belady's
// MIN, and reports miss ratios by policy and cache size: capacity planning before a deployment.
package simulate
