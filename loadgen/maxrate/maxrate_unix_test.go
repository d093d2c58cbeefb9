//go:build unix

package maxrate_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"imgcache/loadgen/maxrate"
)

// BenchmarkMaxRateCPU measures the CPU time of the whole process (loadgen and the trivial server in
// it) per request at a rate under saturation, with verification on and off: what verification
// costs, in a measure that other work on a shared machine disturbs far less than the top rate.
// Run: go test -run X -bench MaxRateCPU -benchtime 1x -count 5 ./loadgen/maxrate/
func BenchmarkMaxRateCPU(b *testing.B) {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for _, tc := range []struct {
		name string
		off  bool
	}{{"verify", false}, {"noverify", true}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				before := cpu()
				steps, _, err := maxrate.Run(context.Background(), maxrate.Config{
					Rates: []float64{1000}, Duration: 3 * time.Second, NoVerify: tc.off,
				})
				if err != nil {
					b.Fatal(err)
				}
				used := cpu() - before
				reqs := steps[0].Sent * 3.2 // the warm-up's 0.2 s too
				b.ReportMetric(float64(used.Microseconds())/reqs, "cpu-µs/req")
				b.ReportMetric(float64(steps[0].Verified), "verified")
			}
		})
	}
}
