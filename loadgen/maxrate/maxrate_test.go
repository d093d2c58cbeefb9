package maxrate_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"imgcache/loadgen/maxrate"
)

func TestMaxRate(t *testing.T) {
	var progress bytes.Buffer
	// The second rate is far beyond what one worker can send: the sweep stops there.
	steps, best, err := maxrate.Run(context.Background(), maxrate.Config{
		Rates: []float64{200, 1e6, 300}, Duration: 300 * time.Millisecond, MaxWorkers: 1, Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 {
		t.Fatalf("%d steps, want 2 (stop after falling behind): %+v", len(steps), steps)
	}
	// A busy machine can make vegeta fall behind, never run ahead: only the upper bound is firm.
	if s := steps[0]; s.Errors != 0 || s.Sent <= 0 || s.Sent > 230 || s.Throughput > 1.01*s.Sent {
		t.Errorf("at 200/s: %+v, want at most about 200 sent, all answered", s)
	}
	if s := steps[1]; s.Sent >= 0.9*s.Offered || best != max(steps[0].Sent, s.Sent) {
		t.Errorf("at 1e6/s: sent %.0f, best %.0f; want far behind, best the highest sent", s.Sent, best)
	}
	if n := strings.Count(progress.String(), "maxrate: offered"); n != 2 {
		t.Errorf("%d progress lines, want 2:\n%s", n, progress.String())
	}
}

// BenchmarkMaxRate measures the highest rate loadgen offers to a trivial server in the same
// process (which shares the CPUs); it must reach maxrate.Goal so that the harness is never
// what limits a measurement. Run: go test -run X -bench MaxRate -benchtime 1x ./loadgen/maxrate/
func BenchmarkMaxRate(b *testing.B) {
	for b.Loop() {
		_, best, err := maxrate.Run(context.Background(), maxrate.Config{
			Rates: []float64{20000, 30000, 40000, 50000}, Duration: 2 * time.Second,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(best, "sent/s")
	}
}
