package app

import (
	"context"
	"fmt"

	"imgcache/database"
)

// Limits of one batch of row lookups and of one group commit.
const (
	maxLookupBatch = database.MaxLookupBatch
	maxCommitGroup = 128
)

// rowResult is a row lookup's answer.
type rowResult struct {
	row database.Image
	err error
}

// newRowBatchers sets up the batching of row lookups and the group commit of uploads' rows.
func (s *Server) newRowBatchers() {
	s.lookups = newBatcher(maxLookupBatch, s.lookupBatch, func(err error) rowResult { return rowResult{err: err} })
	s.lookups.observe = func(n int) { s.metrics.batched.WithLabelValues("get_images").Add(float64(n)) }
	// After a panic the group may have committed: its uploads keep their objects for the sweep.
	s.commits = newBatcher(maxCommitGroup, s.commitGroup, func(err error) database.PutResult {
		return database.PutResult{Err: fmt.Errorf("%w: %w", database.ErrCommitUnknown, err)}
	})
	s.commits.observe = func(n int) { s.metrics.batched.WithLabelValues("put_images").Add(float64(n)) }
}

// lookupRow returns key's row, or an error wrapping database.ErrNotFound. Concurrent lookups share one
// query (see batcher): it starts after this call did, so it sees every upload acknowledged before
// then, on any backend.
func (s *Server) lookupRow(ctx context.Context, key string) (database.Image, error) {
	r, err := s.lookups.do(ctx, key)
	if err != nil {
		return database.Image{}, err
	}
	return r.row, r.err
}

// lookupBatch looks up the rows of keys (possibly repeated) in one query.
func (s *Server) lookupBatch(keys []string) []rowResult {
	uniq := make([]string, 0, len(keys))
	seen := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			uniq = append(uniq, k)
		}
	}
	out := make([]rowResult, len(keys))
	rows, err := s.store.GetImages(s.base, uniq)
	if err != nil {
		for i := range out {
			out[i].err = err
		}
		return out
	}
	found := make(map[string]database.Image, len(rows))
	for _, r := range rows {
		found[r.Key] = r
	}
	for i, k := range keys {
		if r, ok := found[k]; ok {
			out[i].row = r
		} else {
			out[i].err = fmt.Errorf("get image %q: %w", k, database.ErrNotFound)
		}
	}
	return out
}

// commitRow writes img's row with the rows of concurrent uploads, in one transaction and one log sync,
// and returns once it is durable or has failed. It waits for its group whatever the request's context:
// the group is bounded by the database's deadline, and an upload that stopped waiting could not tell
// whether its row was written.
func (s *Server) commitRow(img database.Image) (previous string, err error) {
	r, _ := s.commits.do(context.Background(), img)
	return r.Previous, r.Err
}

// commitGroup writes a group of uploads' rows in one transaction.
func (s *Server) commitGroup(imgs []database.Image) []database.PutResult {
	return s.store.PutImages(context.WithoutCancel(s.base), imgs)
}
