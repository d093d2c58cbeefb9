package cachetrace

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	in := "timestamp,key,key_size,value_size,client_id,operation,ttl\n" +
		"0,q:a,3,100,1,get,0\n" +
		"1,\"k,with,commas\",13,0,2,SET,60\n" +
		"2,q:a,3,0,1,delete,0\n"
	r := NewReader(strings.NewReader(in))
	var got []Record
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec)
	}
	want := []Record{
		{0, "q:a", 3, 100, "1", Get, 0},
		{1, "k,with,commas", 13, 0, "2", Set, 60},
		{2, "q:a", 3, 0, "1", Delete, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records %+v, want %+v", got, want)
	}
}

func TestReaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, msg string
	}{
		{"six fields", "0,k,1,1,1,get\n", "wrong number of fields"},
		{"unknown operation", "0,k,1,1,1,frob,0\n", "operation"},
		{"negative size", "0,k,1,-1,1,get,0\n", "value size"},
		{"huge value", "0,k,1,99999999999,1,get,0\n", "value size"},
		{"empty key", "0,,1,1,1,get,0\n", "key of 0 bytes"},
		{"long key", "0," + strings.Repeat("k", 251) + ",1,1,1,get,0\n", "key of 251 bytes"},
		{"bad time", "x,k,1,1,1,get,0\n", "timestamp"},
		{"header later", "0,k,1,1,1,get,0\ntimestamp,k,1,1,1,get,0\n", "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.in), 10, 10)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Load error = %v, want ErrFormat mentioning %q", err, tc.msg)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	in := "0,a,1,100,1,get,0\n0,b,1,50,1,set,60\n1,a,1,120,1,set,60\n1,a,1,0,1,get,0\n2,c,1,0,1,gets,0\n"
	tr, err := Load(strings.NewReader(in), 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := &Trace{
		Keys:     []string{"a", "b", "c"},
		Sizes:    []int{120, 50, 0},
		Requests: []Request{{0, false}, {1, true}, {0, true}, {0, false}, {2, false}},
		Reads:    3, Writes: 2,
	}
	if !reflect.DeepEqual(tr, want) {
		t.Errorf("Load = %+v, want %+v", tr, want)
	}
	for name, lim := range map[string][2]int{"keys": {2, 10}, "requests": {3, 4}} {
		if _, err := Load(strings.NewReader(in), lim[0], lim[1]); !errors.Is(err, ErrTooBig) {
			t.Errorf("Load with too few %s allowed: error %v, want ErrTooBig", name, err)
		}
	}
	if _, err := Load(strings.NewReader(""), 3, 10); !errors.Is(err, ErrFormat) {
		t.Errorf("Load of nothing: error %v, want ErrFormat", err)
	}
}

// The committed trace is what scripts/gentrace writes: the generator and the file agree.
func TestSmallTraceCommitted(t *testing.T) {
	recs, err := Generate(Small())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, recs); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../testdata/trace-small.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), committed) {
		t.Fatal("loadgen/testdata/trace-small.csv differs from Generate(Small()): rerun go run ./scripts/gentrace > loadgen/testdata/trace-small.csv")
	}
	tr, err := Load(bytes.NewReader(committed), 1000, 100000)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Small()
	if share := float64(tr.Reads) / float64(len(tr.Requests)); len(tr.Requests) != cfg.Requests || share < 0.87 || share > 0.93 {
		t.Errorf("%d requests, read share %.3f; want %d and about %.2f", len(tr.Requests), share, cfg.Requests, cfg.ReadShare)
	}
	if len(tr.Keys) < cfg.Keys/2 || len(tr.Keys) > cfg.Keys {
		t.Errorf("%d distinct keys of %d", len(tr.Keys), cfg.Keys)
	}
}

func TestGenerateBadConfig(t *testing.T) {
	cfg := Small()
	cfg.ZipfS = 1
	if _, err := Generate(cfg); !errors.Is(err, ErrFormat) {
		t.Errorf("Generate with s = 1: error %v, want ErrFormat", err)
	}
}

// FuzzReader feeds the reader arbitrary bytes: it must return records or an ErrFormat error,
// never panic, and every record it returns must survive a write and a second read unchanged.
func FuzzReader(f *testing.F) {
	f.Add([]byte("0,q:a,3,100,1,get,0\n1,b,1,0,2,delete,0\n"))
	f.Add([]byte("timestamp,key,key_size,value_size,client_id,operation,ttl\n0,\"a\"\"b\",3,1,1,gets,0\n"))
	f.Add([]byte("0,k,1,1,1,get\n"))
	f.Add([]byte("\"unterminated\n"))
	f.Add([]byte("0, k ,1, 1 ,1, GET ,0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		var recs []Record
		for range 1000 {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("error %v is not ErrFormat", err)
				}
				return
			}
			recs = append(recs, rec)
		}
		var buf bytes.Buffer
		if err := Write(&buf, recs); err != nil {
			t.Fatalf("write back: %v", err)
		}
		r2 := NewReader(&buf)
		for i, want := range recs {
			got, err := r2.Read()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("record %d read back as %+v, %v; want %+v", i, got, err, want)
			}
		}
		if _, err := Load(bytes.NewReader(b), 1000, 1000); err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooBig) {
			t.Fatalf("Load error %v", err)
		}
	})
}
