package web

import (
	"testing"
	"time"

	"imgcache/database"
)

// TestActiveNodesSeries: a node counts on the active-nodes chart from its registration on; before it,
// the chart shows the nodes that had registered, whatever the decisions or the count now say.
func TestActiveNodesSeries(t *testing.T) {
	end := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	old := end.Add(-2 * time.Hour)
	tests := []struct {
		name   string
		events []database.PoolEvent // newest first
		nodes  []database.Node
		// want is the count at a time before the late node registered, and at the end.
		before, after int
	}{
		{"two nodes all along", nil, []database.Node{{RegisteredAt: old}, {RegisteredAt: old}}, 2, 2},
		{"a node registered two minutes ago", nil, []database.Node{{RegisteredAt: old}, {RegisteredAt: end.Add(-2 * time.Minute)}}, 1, 2},
		{"a decision to grow before the node came", []database.PoolEvent{{CreatedAt: end.Add(-20 * time.Minute), From: 1, To: 2}},
			[]database.Node{{RegisteredAt: old}, {RegisteredAt: end.Add(-2 * time.Minute)}}, 1, 2},
		{"no node yet", nil, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := activeNodesSeries(tt.events, tt.nodes, len(tt.nodes), end)
			if n := len(s.Points); n != int(poolSpan/poolStep) {
				t.Fatalf("%d points, want %d", n, poolSpan/poolStep)
			}
			at := func(when time.Time) float64 {
				for _, p := range s.Points {
					if !p.At.Before(when) {
						return p.Value
					}
				}
				return s.Points[len(s.Points)-1].Value
			}
			if got := at(end.Add(-10 * time.Minute)); got != float64(tt.before) {
				t.Errorf("10 minutes ago: %v nodes, want %d", got, tt.before)
			}
			if got := s.Points[len(s.Points)-1].Value; got != float64(tt.after) {
				t.Errorf("now: %v nodes, want %d", got, tt.after)
			}
		})
	}
}
