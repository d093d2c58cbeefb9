package app

import (
	"errors"

	"imgcache/memcache/pool"
	"imgcache/memcache/wire"
)

// NoteCacheErr counts a failed memcache call and logs the cache becoming unreachable once, not once
// per request. One node's failure in a pool of several is not the cache being down: the breaker's
// changes are logged instead (noteBreaker).
func (s *Server) NoteCacheErr(err error) {
	if errors.Is(err, wire.ErrUnavailable) {
		s.metrics.cacheErrors.Inc()
		var ne *pool.NodeError
		if errors.As(err, &ne) && s.PoolSize() > 1 {
			return
		}
		if s.cacheDown.CompareAndSwap(false, true) {
			s.log.Warn("memcache unreachable: serving from database and disk", "url", s.cfg.MemcacheURL, "err", err)
		}
	}
}

// noteBreaker logs a memcache node's ejection and return.
func (s *Server) noteBreaker(m pool.Member, state pool.BreakerState) {
	if state == pool.BreakerClosed {
		s.log.Info("memcache node back after a probe", "node", m.ID, "url", m.URL)
		return
	}
	s.log.Warn("memcache node ejected after failed calls: its images are read from the store until a probe succeeds", "node", m.ID, "url", m.URL)
}

// NoteCacheOK logs the recovery once.
func (s *Server) NoteCacheOK() {
	if s.cacheDown.CompareAndSwap(true, false) {
		s.log.Info("memcache reachable again", "url", s.cfg.MemcacheURL)
	}
}
