package app

import (
	"context"
	"time"

	"imgcache/database"
	"imgcache/memcache/pool"
)

// Exposed to the external tests.
var ActiveMembers = activeMembers

// NewWithPool is a server whose pool follows db, with no nodes, for tests of the auto-scaler.
func NewWithPool(cfg Config, db *database.DB) *Server {
	p := pool.New(pool.Options{})
	return newServer(cfg, p, db, nil, p, db)
}

// Settle waits for the invalidations that uploads and deletes left running after their answers.
func (s *Server) Settle() { s.forgets.Wait() }

// AutoscaleOnce is autoscaleOnce.
func (s *Server) AutoscaleOnce(ctx context.Context, now time.Time) error {
	return s.autoscaleOnce(ctx, now)
}
