package loadgen

import (
	"bytes"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func testWorkload(t testing.TB, images int) (*Dataset, *Workload) {
	t.Helper()
	ds, err := NewDataset(DatasetConfig{Images: images, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000})
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorkload("http://127.0.0.1:5000/", ds, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ds, w
}

func TestTargeterMix(t *testing.T) {
	_, w := testWorkload(t, 20)
	pop, _ := NewZipf(20, DefaultZipfS, 1)
	for _, mix := range append([]Mix{{100, 0}, {0, 100}}, DefaultMixes...) {
		t.Run(mix.String(), func(t *testing.T) {
			tr, err := NewTargeter(w, pop, mix.ReadFraction(), 9)
			if err != nil {
				t.Fatal(err)
			}
			const draws = 10000
			var reads int
			for range draws {
				var tgt vegeta.Target
				if err := tr.Next(&tgt); err != nil {
					t.Fatal(err)
				}
				if OpOf(&vegeta.Result{Method: tgt.Method, URL: tgt.URL}) == OpRead {
					reads++
				}
			}
			got := float64(reads) / draws
			if math.Abs(got-mix.ReadFraction()) > 0.02 {
				t.Errorf("reads %.3f of %d draws, want %.2f ± 0.02", got, draws, mix.ReadFraction())
			}
			if r, wr := tr.Counts(); r != uint64(reads) || r+wr != draws {
				t.Errorf("Counts() = %d, %d; want %d, %d", r, wr, reads, draws-reads)
			}
		})
	}
}

func TestTargeterRequests(t *testing.T) {
	ds, w := testWorkload(t, 5)
	pop, _ := NewZipf(5, 1.1, 1)
	tr, _ := NewTargeter(w, pop, 0.5, 1)
	lastBody := map[string][]byte{}
	for range 400 {
		var tgt vegeta.Target
		if err := tr.Next(&tgt); err != nil {
			t.Fatal(err)
		}
		if tgt.Method != http.MethodPost {
			t.Fatalf("method %s, want POST", tgt.Method)
		}
		if strings.HasPrefix(tgt.URL, "http://127.0.0.1:5000/api/key/lg-") {
			if tgt.Body != nil {
				t.Errorf("read %s has a body", tgt.URL)
			}
			continue
		}
		if tgt.URL != "http://127.0.0.1:5000/api/upload" {
			t.Fatalf("URL %q is neither a read nor an upload", tgt.URL)
		}
		key, file := parseUpload(t, tgt)
		im := ds.Images[keyIndex(t, ds, key)]
		if bytes.Equal(file, im.Data) {
			t.Errorf("a write of %s sent version 0, want a new version", key)
		}
		if bytes.Equal(file, lastBody[key]) {
			t.Errorf("two writes in a row of %s sent the same bytes", key)
		}
		lastBody[key] = file
	}
	if len(lastBody) < 2 {
		t.Errorf("writes went to %d keys, want several", len(lastBody))
	}
}

func parseUpload(t *testing.T, tgt vegeta.Target) (key string, file []byte) {
	t.Helper()
	_, params, err := mime.ParseMediaType(tgt.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("upload content type: %v", err)
	}
	mr := multipart.NewReader(bytes.NewReader(tgt.Body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("upload body: %v", err)
		}
		b, _ := io.ReadAll(p)
		switch p.FormName() {
		case "key":
			key = string(b)
		case "file":
			file = b
		}
	}
	if key == "" || len(file) == 0 {
		t.Fatalf("upload without key or file")
	}
	return key, file
}

func keyIndex(t *testing.T, ds *Dataset, key string) int {
	t.Helper()
	for i, im := range ds.Images {
		if im.Key == key {
			return i
		}
	}
	t.Fatalf("unknown key %q", key)
	return -1
}

// Keys follow the popularity: the top-ranked key is read most.
func TestTargeterPopularity(t *testing.T) {
	ds, w := testWorkload(t, 10)
	pop, _ := NewZipf(10, 1.1, 3)
	tr, _ := NewTargeter(w, pop, 1, 1)
	counts := map[string]int{}
	for range 5000 {
		var tgt vegeta.Target
		_ = tr.Next(&tgt)
		counts[tgt.URL]++
	}
	top := w.readURLs[pop.KeyOfRank(0)]
	for u, n := range counts {
		if n > counts[top] {
			t.Errorf("%s read %d times, more than the top-ranked %s (%d)", u, n, top, counts[top])
		}
	}
	if got, want := float64(counts[top])/5000, pop.Prob(0); math.Abs(got-want) > 0.03 {
		t.Errorf("top key drawn %.3f of the time, want %.3f", got, want)
	}
	_ = ds
}

// vegeta calls the targeter from many workers at once; run with -race.
func TestTargeterConcurrent(t *testing.T) {
	_, w := testWorkload(t, 8)
	pop, _ := NewZipf(8, 1.1, 1)
	tr, _ := NewTargeter(w, pop, 0.5, 1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				var tgt vegeta.Target
				if err := tr.Next(&tgt); err != nil {
					t.Error(err)
					return
				}
				if _, err := tgt.Request(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if r, wr := tr.Counts(); r+wr != 4000 {
		t.Errorf("Counts() = %d + %d, want 4000 in all", r, wr)
	}
}

func TestNewWorkloadBadURL(t *testing.T) {
	ds, _ := testWorkload(t, 1)
	for _, u := range []string{"", "localhost:5000", "ftp://x/"} {
		if _, err := NewWorkload(u, ds, 1); err == nil {
			t.Errorf("NewWorkload(%q) succeeded, want an error", u)
		}
	}
}

func TestOpOf(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want Op
	}{
		{"http://h/api/upload", OpWrite},
		{"http://h/api/key/lg-0001", OpRead},
		{"http://h/api/key/upload", OpRead},
	} {
		if got := OpOf(&vegeta.Result{URL: tc.url}); got != tc.want {
			t.Errorf("OpOf(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func BenchmarkTargeterNext(b *testing.B) {
	_, w := testWorkload(b, 200)
	pop, _ := NewZipf(200, DefaultZipfS, 1)
	tr, _ := NewTargeter(w, pop, 0.5, 1)
	b.RunParallel(func(pb *testing.PB) {
		var tgt vegeta.Target
		for pb.Next() {
			_ = tr.Next(&tgt)
		}
	})
}
