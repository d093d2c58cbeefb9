package simulate

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/klauspost/compress/zstd"
)

var update = flag.Bool("update", false, "rewrite the generated traces under testdata")

// The committed traces, made by genZipfOracle and genScanCSV (see testdata/README.md).
const (
	zipfTrace = "testdata/zipf.oracleGeneral.zst"
	scanTrace = "testdata/scan.csv"
)

// zipfRanks draws n ranks in [0, keys) with probability proportional to 1/(r+1)^s.
func zipfRanks(rng *rand.Rand, keys, n int, s float64) []int {
	cdf := make([]float64, keys)
	total := 0.0
	for r := range cdf {
		total += math.Pow(float64(r+1), -s)
		cdf[r] = total
	}
	out := make([]int, n)
	for i := range out {
		out[i] = sort.SearchFloat64s(cdf, rng.Float64()*total)
	}
	return out
}

// genZipfOracle makes 50,000 requests over 5,000 objects of Zipf popularity (s = 0.9) whose
// ranking drifts, with log-normal sizes around 4 KiB, as a zstd-compressed oracleGeneral trace
// with its next-access field filled as libCacheSim's tools fill it.
func genZipfOracle() []byte {
	const keys, n = 5000, 50000
	rng := rand.New(rand.NewPCG(20, 1))
	ids := make([]uint64, keys)
	sizes := make([]uint32, keys)
	for i := range ids {
		ids[i] = uint64(rng.Uint32())
		sizes[i] = uint32(max(64, 4096*math.Exp(0.8*rng.NormFloat64())))
	}
	perm := rng.Perm(keys)
	ranks := zipfRanks(rng, keys, n, 0.9)
	objs := make([]int, n)
	for i, r := range ranks {
		if i > 0 && i%(n/10) == 0 { // popularity drifts: a few hot objects turn cold
			for range keys / 50 {
				a, b := rng.IntN(keys/10), rng.IntN(keys)
				perm[a], perm[b] = perm[b], perm[a]
			}
		}
		objs[i] = perm[r]
	}
	next := make([]int64, n)
	last := map[int]int{}
	for i := n - 1; i >= 0; i-- {
		next[i] = -1
		if j, ok := last[objs[i]]; ok {
			next[i] = int64(j)
		}
		last[objs[i]] = i
	}
	var raw bytes.Buffer
	var rec [oracleRecord]byte
	for i, o := range objs {
		binary.LittleEndian.PutUint32(rec[0:], uint32(i/100))
		binary.LittleEndian.PutUint64(rec[4:], ids[o])
		binary.LittleEndian.PutUint32(rec[12:], sizes[o])
		binary.LittleEndian.PutUint64(rec[16:], uint64(next[i]))
		raw.Write(rec[:])
	}
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	return enc.EncodeAll(raw.Bytes(), nil)
}

// genScanCSV makes 30,000 requests as key,size lines: a Zipf hot set of 1,000 keys (s = 1.1)
// interleaved with loops over 4,000 cold keys, the pattern that defeats LRU and that SIEVE and
// S3-FIFO are built to resist.
func genScanCSV() []byte {
	const hot, cold, n = 1000, 4000, 30000
	rng := rand.New(rand.NewPCG(21, 2))
	ranks := zipfRanks(rng, hot, n, 1.1)
	var b bytes.Buffer
	scan := 0
	for i := range n {
		if (i/3000)%2 == 1 && rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "cold%d,%d\n", scan%cold, 100+scan%cold)
			scan++
			continue
		}
		fmt.Fprintf(&b, "hot%d,%d\n", ranks[i], 1000+ranks[i])
	}
	return b.Bytes()
}

// TestGeneratedTraces checks the committed traces are what the generators make, and rewrites
// them with -update.
func TestGeneratedTraces(t *testing.T) {
	for name, gen := range map[string]func() []byte{zipfTrace: genZipfOracle, scanTrace: genScanCSV} {
		want := gen()
		if *update {
			if err := os.WriteFile(filepath.FromSlash(name), want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			t.Fatalf("%v (run go test -run TestGeneratedTraces -update to make it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what its generator makes (run with -update after changing the generator)", name)
		}
	}
}
