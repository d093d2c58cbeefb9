package simulate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oracleBytes encodes requests (object id, size) as oracleGeneral records.
func oracleBytes(reqs ...[2]uint64) []byte {
	var b bytes.Buffer
	var rec [oracleRecord]byte
	for i, r := range reqs {
		binary.LittleEndian.PutUint32(rec[0:], uint32(i))
		binary.LittleEndian.PutUint64(rec[4:], r[0])
		binary.LittleEndian.PutUint32(rec[12:], uint32(r[1]))
		binary.LittleEndian.PutUint64(rec[16:], ^uint64(0))
		b.Write(rec[:])
	}
	return b.Bytes()
}

func TestReadFormats(t *testing.T) {
	for _, tc := range []struct {
		name, format, in string
		want             []Request
		objects          int
	}{
		{"oracle", FormatOracleGeneral, string(oracleBytes([2]uint64{7, 100}, [2]uint64{1 << 40, 5}, [2]uint64{7, 100})),
			[]Request{{0, 100}, {1, 5}, {0, 100}}, 2},
		{"csv", FormatCSV, "a,10\n\n b , 20 \na\nc,0\n", []Request{{0, 10}, {1, 20}, {0, 1}, {2, 0}}, 3},
		{"twitter", FormatTwitter, "0,k1,2,30,1,get,0\n1,k2,2,40,1,set,0\n2,k1,2,30,1,delete,0\n",
			[]Request{{0, 32}, {1, 42}, {0, 32}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := Read(strings.NewReader(tc.in), tc.format, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.Requests; !equalReqs(got, tc.want) {
				t.Errorf("requests %v, want %v", got, tc.want)
			}
			if tr.Objects != tc.objects || tr.ReadObjects != int64(tc.objects) || tr.Read != int64(len(tc.want)) {
				t.Errorf("objects %d (%d read), requests read %d; want %d objects, %d requests", tr.Objects, tr.ReadObjects, tr.Read, tc.objects, len(tc.want))
			}
		})
	}
}

func equalReqs(a, b []Request) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, format, in string
		rate             float64
		want             error
	}{
		{"truncated record", FormatOracleGeneral, string(oracleBytes([2]uint64{1, 1}, [2]uint64{2, 1}))[:30], 1, ErrFormat},
		{"empty", FormatOracleGeneral, "", 1, ErrFormat},
		{"csv bad size", FormatCSV, "a,1\nb,x\n", 1, ErrFormat},
		{"csv negative size", FormatCSV, "a,-1\n", 1, ErrFormat},
		{"csv size over 4 GiB", FormatCSV, "a,4294967296\n", 1, ErrFormat},
		{"csv empty key", FormatCSV, ",3\n", 1, ErrFormat},
		{"csv long line", FormatCSV, strings.Repeat("k", MaxCSVLine+1), 1, ErrFormat},
		{"twitter bad row", FormatTwitter, "0,k1,2,30\n", 1, nil},
		{"unknown format", "parquet", "a\n", 1, ErrBadConfig},
		{"rate zero", FormatCSV, "a\n", 0, ErrBadConfig},
		{"rate over one", FormatCSV, "a\n", 1.5, ErrBadConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in), tc.format, tc.rate)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSamplingKeepsWholeObjects(t *testing.T) {
	// 2,000 objects, each requested 10 times.
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "key%d,1\n", i%2000)
	}
	half, err := Read(strings.NewReader(b.String()), FormatCSV, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if half.Read != 20000 || half.ReadObjects != 2000 || half.Rate != 0.5 {
		t.Errorf("sampled trace counts %d requests, %d objects at %g; want the whole trace's 20000, 2000", half.Read, half.ReadObjects, half.Rate)
	}
	if half.Objects < 900 || half.Objects > 1100 {
		t.Errorf("kept %d of 2000 objects at rate 0.5", half.Objects)
	}
	// Every request of a kept object is kept.
	count := map[uint32]int{}
	for _, r := range half.Requests {
		count[r.ID]++
	}
	for id, n := range count {
		if n != 10 {
			t.Fatalf("object %d kept with %d of its 10 requests", id, n)
		}
	}
}

func TestOpenZstd(t *testing.T) {
	tr, err := Open(zipfTrace, FormatOracleGeneral, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Requests) != 50000 || tr.Objects > 5000 || tr.Objects < 4000 {
		t.Errorf("%d requests over %d objects, want 50000 over about 5000", len(tr.Requests), tr.Objects)
	}
	// The same bytes uncompressed read the same.
	raw := filepath.Join(t.TempDir(), "z.oracleGeneral.bin")
	tz, _ := Open(zipfTrace, FormatOracleGeneral, 1)
	var b bytes.Buffer
	for _, r := range tz.Requests {
		b.Write(oracleBytes([2]uint64{uint64(r.ID), uint64(r.Size)}))
	}
	if err := os.WriteFile(raw, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tr2, err := Open(raw, FormatOf(raw), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !equalReqs(tr.Requests, tr2.Requests) {
		t.Error("the uncompressed copy reads differently")
	}
}

func FuzzReadOracleGeneral(f *testing.F) {
	f.Add(oracleBytes([2]uint64{1, 2}, [2]uint64{1, 2}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Read(bytes.NewReader(data), FormatOracleGeneral, 1)
		if err != nil {
			if len(data)%oracleRecord == 0 && len(data) > 0 {
				t.Fatalf("whole records refused: %v", err)
			}
			return
		}
		if len(tr.Requests) != len(data)/oracleRecord || len(data)%oracleRecord != 0 {
			t.Fatalf("%d requests from %d bytes", len(tr.Requests), len(data))
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add("a,1\nb\n\nc,99\n")
	f.Add(",\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := Read(strings.NewReader(in), FormatCSV, 1)
		if err != nil {
			return
		}
		if len(tr.Requests) == 0 || tr.Objects > len(tr.Requests) {
			t.Fatalf("%d requests, %d objects", len(tr.Requests), tr.Objects)
		}
	})
}

func FuzzReadTwitter(f *testing.F) {
	f.Add("0,k1,2,30,1,get,0\n1,k2,2,40,1,set,0\n")
	f.Add("timestamp,key,key_size,value_size,client,op,ttl\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := Read(strings.NewReader(in), FormatTwitter, 0.5)
		if err != nil {
			return
		}
		if tr.Read == 0 || int64(len(tr.Requests)) > tr.Read {
			t.Fatalf("%d requests of %d read", len(tr.Requests), tr.Read)
		}
	})
}
