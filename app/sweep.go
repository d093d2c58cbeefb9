package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"imgcache/database"
)

// Defaults of the orphan sweep.
const (
	// DefaultSweepGrace is how old an object must be before the sweep may remove it. Another backend's
	// upload in flight has written its object but not yet committed its row; its database call has a
	// deadline of seconds, so minutes leave a wide margin, clock skew with an object store included.
	DefaultSweepGrace = 15 * time.Minute
	// DefaultSweepInterval is how often the sweep runs, besides once at start.
	DefaultSweepInterval = 10 * time.Minute

	// sweepBatch bounds the objects one database query checks, and the memory of a sweep.
	sweepBatch = database.MaxNamedBatch
	// inflightSlack covers the coarse clock of file timestamps, which may lag the clock an upload read
	// its start time from by a tick.
	inflightSlack = time.Second
)

// uploads tracks this process's uploads in flight: an object they wrote has no row yet, and must
// survive a sweep whatever the grace period.
type uploads struct {
	mu      sync.Mutex
	next    uint64
	started map[uint64]time.Time
}

// begin records an upload starting now; end(id) when it has committed or given up.
func (u *uploads) begin() (id uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.started == nil {
		u.started = map[uint64]time.Time{}
	}
	u.next++
	u.started[u.next] = time.Now()
	return u.next
}

func (u *uploads) end(id uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.started, id)
}

// oldest returns the start of the oldest upload in flight.
func (u *uploads) oldest() (t time.Time, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, s := range u.started {
		if !ok || s.Before(t) {
			t, ok = s, true
		}
	}
	return t, ok
}

// candidate is an object the sweep may remove.
type candidate struct {
	name     string
	modified time.Time
}

// Sweep removes the objects that no row names and that are older than the grace period, checking
// them against the database in batches; it returns how many it removed. It never removes an object a
// committed row names: an object becomes a candidate only when it was listed before an upload that
// could have written it had ended, and every candidate is checked against the rows after that.
func (s *Server) Sweep(ctx context.Context) (removed int, err error) {
	cutoff := time.Now().Add(-s.cfg.SweepGrace)
	var batch []candidate
	flush := func() error {
		n, err := s.sweepBatch(ctx, batch)
		removed += n
		batch = batch[:0]
		return err
	}
	err = s.objects.List(ctx, func(name string, modified time.Time) error {
		if !modified.Before(cutoff) {
			return nil
		}
		batch = append(batch, candidate{name, modified})
		if len(batch) < sweepBatch {
			return nil
		}
		return flush()
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if removed > 0 {
		s.metrics.orphans.Add(float64(removed))
		s.log.Info("removed orphan objects that no row names", "count", removed, "grace", s.cfg.SweepGrace)
	}
	if err != nil {
		return removed, fmt.Errorf("sweep orphans: %w", err)
	}
	return removed, nil
}

// sweepBatch removes the candidates of one batch that no row names.
func (s *Server) sweepBatch(ctx context.Context, batch []candidate) (removed int, err error) {
	// Read only now, after the batch was listed: an upload that wrote one of these objects either is
	// still in flight now, and started before the object was written, or has ended, and then its row,
	// if it committed, is visible to the query below.
	oldest, inflight := s.uploads.oldest()
	names := make([]string, 0, len(batch))
	for _, c := range batch {
		if inflight && !c.modified.Before(oldest.Add(-inflightSlack)) {
			continue
		}
		names = append(names, c.name)
	}
	named, err := s.store.NamedLocations(ctx, names)
	if err != nil {
		return 0, s.DBError("sweep orphans", err)
	}
	var errs []error
	for _, n := range names {
		if named[n] {
			continue
		}
		if err := s.objects.Delete(ctx, n); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// sweepLoop sweeps at start and then every interval, until the server closes.
func (s *Server) sweepLoop() {
	defer s.background.Done()
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(s.base, s.cfg.SweepInterval)
		if _, err := s.Sweep(ctx); err != nil && s.base.Err() == nil {
			s.log.Warn("orphan sweep failed; it runs again later", "err", err)
		}
		cancel()
		select {
		case <-s.base.Done():
			return
		case <-t.C:
		}
	}
}
