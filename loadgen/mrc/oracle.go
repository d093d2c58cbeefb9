package mrc

import "context"

// Oracle runs Belady's MIN (with bypass, as in Compute) over one trace at any number of
// capacities, for callers that replay traces of their own, such as loadgen simulate. The trace's
// next uses are found once.
type Oracle struct {
	tr   []Request
	keys []string
	next []int32
}

// NewOracle prepares tr, whose keys index keys (their lengths count in an item's size, as in
// Compute), for MIN. tr must not change while the Oracle is in use.
func NewOracle(tr []Request, keys []string) *Oracle {
	return &Oracle{tr: tr, keys: keys, next: nextUses(tr, len(keys))}
}

// Hits returns the reads MIN hits with capacity bytes. It is safe to call from several
// goroutines at once.
func (o *Oracle) Hits(ctx context.Context, capacity int64) (int64, error) {
	return belady(ctx, o.tr, o.next, o.keys, capacity)
}
