package app

import (
	"context"
	"time"

	"imgcache/memcache/wire"
)

// LiveStatsTimeout bounds the memcache call a page makes for its figures: a hung cache slows a page
// by this much at most, and the page then says the cache is unreachable.
const LiveStatsTimeout = 500 * time.Millisecond

// LiveStats asks the memcache for its current figures, briefly; ok is false when it did not answer.
func (s *Server) LiveStats(ctx context.Context) (st wire.Stats, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, LiveStatsTimeout)
	defer cancel()
	st, err := s.cache.Stats(ctx)
	if err != nil {
		s.NoteCacheErr(err)
		return st, false
	}
	s.NoteCacheOK()
	return st, true
}
