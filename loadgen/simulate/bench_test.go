package simulate

import (
	"context"
	"testing"
)

// BenchmarkReplay times one replay of the committed Zipf trace per policy, one thread, trace
// already read, at a tenth of its objects: ns/op is per request.
func BenchmarkReplay(b *testing.B) {
	tr, err := Open(zipfTrace, FormatOracleGeneral, 1)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{PolicyLRU, PolicyFIFO, PolicySIEVE, PolicyS3FIFO} {
		b.Run(p, func(b *testing.B) {
			sim, err := New(tr, Config{UnitSize: true, Workers: 1})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := sim.One(context.Background(), p, 500); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(tr.Requests)), "ns/request")
		})
	}
}
