package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"imgcache/app/api"
	"imgcache/loadgen/cachetrace"
	"imgcache/loadgen/mrc"
	"imgcache/reports/results"
)

func testWorkload(t testing.TB, images int) (*Dataset, *Workload) {
	t.Helper()
	ds, err := NewDataset(DatasetConfig{Images: images, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000})
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorkload("http://127.0.0.1:5000/", ds, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	return ds, w
}

func TestTargeterMix(t *testing.T) {
	_, w := testWorkload(t, 20)
	pop, _ := NewZipf(20, DefaultZipfS, 1)
	for _, mix := range append([]results.Mix{{Reads: 100, Writes: 0}, {Reads: 0, Writes: 100}}, DefaultMixes()...) {
		t.Run(mix.String(), func(t *testing.T) {
			tr, err := NewTargeter(w, TargeterConfig{ReadFraction: mix.ReadFraction(), Reads: pop, Seed: 9})
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
	tr, _ := NewTargeter(w, TargeterConfig{ReadFraction: 0.5, Reads: pop, Seed: 1})
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
	tr, _ := NewTargeter(w, TargeterConfig{ReadFraction: 1, Reads: pop, Seed: 1})
	counts := map[string]int{}
	for range 5000 {
		var tgt vegeta.Target
		_ = tr.Next(&tgt)
		counts[tgt.URL]++
	}
	top := w.readURLs[0][pop.KeyOfRank(0)]
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
	tr, _ := NewTargeter(w, TargeterConfig{ReadFraction: 0.5, Reads: pop, Seed: 1})
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

// draw returns the key index and kind of n requests of tr.
func draw(t *testing.T, w *Workload, tr *Targeter, n int) (keys []int, writes []bool) {
	t.Helper()
	index := map[string]int{}
	for i, name := range w.Names() {
		index[name] = i
	}
	for range n {
		var tgt vegeta.Target
		if err := tr.Next(&tgt); err != nil {
			t.Fatal(err)
		}
		var name string
		write := tgt.URL == w.uploadURLs[0]
		if write {
			name, _ = parseUpload(t, tgt)
		} else {
			name = strings.TrimPrefix(tgt.URL, w.BaseURL()+api.PathKeyPrefix)
		}
		k, ok := index[name]
		if !ok {
			t.Fatalf("request for unknown key %q", name)
		}
		keys, writes = append(keys, k), append(writes, write)
	}
	return keys, writes
}

// The write-key law decides where writes go; reads keep the read law whatever it is.
func TestTargeterWriteKeys(t *testing.T) {
	_, w := testWorkload(t, 20)
	pop, _ := NewZipf(20, 2, 1) // steep: the top key draws over half of the reads
	top := pop.KeyOfRank(0)
	for _, tc := range []struct {
		law                string
		topShare           [2]float64 // bounds of the share of writes to the top read key
		writeOnlyKeys      bool
		distinctWritesLess int // at most this many distinct keys written
	}{
		{WriteKeysSame, [2]float64{0.5, 0.8}, false, 20},
		{WriteKeysUniform, [2]float64{0.02, 0.09}, false, 20},
		{WriteKeysNew, [2]float64{0, 0}, true, 20},
	} {
		t.Run(tc.law, func(t *testing.T) {
			tr, err := NewTargeter(w, TargeterConfig{ReadFraction: 0.5, Reads: pop, WriteKeys: tc.law, Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			keys, writes := draw(t, w, tr, 4000)
			var nw, toTop, readTop, nr int
			written := map[int]bool{}
			for i, k := range keys {
				if !writes[i] {
					nr++
					if k == top {
						readTop++
					}
					if k >= w.Keys() {
						t.Fatalf("a read of write-only key %d", k)
					}
					continue
				}
				nw++
				written[k] = true
				if k == top {
					toTop++
				}
				if (k >= w.Keys()) != tc.writeOnlyKeys {
					t.Fatalf("write to key %d: write-only %v, want %v", k, k >= w.Keys(), tc.writeOnlyKeys)
				}
			}
			share := float64(toTop) / float64(nw)
			if share < tc.topShare[0] || share > tc.topShare[1] {
				t.Errorf("%.3f of writes to the top key, want %.2f to %.2f", share, tc.topShare[0], tc.topShare[1])
			}
			if rs := float64(readTop) / float64(nr); rs < 0.5 {
				t.Errorf("%.3f of reads to the top key, want the read law's (over half)", rs)
			}
			if len(written) > tc.distinctWritesLess {
				t.Errorf("writes went to %d keys, want at most %d (the pool cycles)", len(written), tc.distinctWritesLess)
			}
		})
	}
	if _, err := NewTargeter(w, TargeterConfig{ReadFraction: 0.5, Reads: pop, WriteKeys: "sideways"}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("unknown write keys: error %v, want ErrBadConfig", err)
	}
	_, noPool := testWorkloadPool(t, 20, false)
	if _, err := NewTargeter(noPool, TargeterConfig{ReadFraction: 0.5, Reads: pop, WriteKeys: WriteKeysNew}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("new keys without a pool: error %v, want ErrBadConfig", err)
	}
}

func testWorkloadPool(t testing.TB, images int, pool bool) (*Dataset, *Workload) {
	t.Helper()
	ds, err := NewDataset(DatasetConfig{Images: images, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000})
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorkload("http://127.0.0.1:5000/", ds, 0, pool)
	if err != nil {
		t.Fatal(err)
	}
	return ds, w
}

// A replayed trace is followed request by request, from the start again after its end.
func TestTargeterReplay(t *testing.T) {
	_, w := testWorkload(t, 3)
	trace := &cachetrace.Trace{Keys: []string{"a", "b", "c"}, Sizes: []int{1, 1, 1},
		Requests: []cachetrace.Request{{Key: 2}, {Key: 0, Write: true}, {Key: 1}}}
	tr, err := NewTargeter(w, TargeterConfig{Replay: trace})
	if err != nil {
		t.Fatal(err)
	}
	keys, writes := draw(t, w, tr, 7)
	if want := []int{2, 0, 1, 2, 0, 1, 2}; !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if want := []bool{false, true, false, false, true, false, false}; !slices.Equal(writes, want) {
		t.Errorf("writes %v, want %v", writes, want)
	}
	bad := &cachetrace.Trace{Requests: []cachetrace.Request{{Key: 3}}}
	if _, err := NewTargeter(w, TargeterConfig{Replay: bad}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("trace key beyond the images: error %v, want ErrBadConfig", err)
	}
}

// The recorded trace is the requests handed out, in order, with the size a read's fill stores:
// the base64 of the version the key holds.
func TestTargeterRecord(t *testing.T) {
	_, w := testWorkload(t, 4)
	pop, _ := NewZipf(4, 1.1, 1)
	tr, err := NewTargeter(w, TargeterConfig{ReadFraction: 0.5, Reads: pop, Seed: 3, Record: 100})
	if err != nil {
		t.Fatal(err)
	}
	keys, writes := draw(t, w, tr, 150)
	rec, cut := tr.Trace()
	if len(rec) != 100 || !cut {
		t.Fatalf("recorded %d requests (cut %v), want the first 100, cut", len(rec), cut)
	}
	version := make([]int, len(w.Names()))
	for i, r := range rec {
		want := mrc.Request{Key: uint32(keys[i]), Write: writes[i]}
		if writes[i] {
			version[keys[i]]++
		} else {
			v := 0
			if n := version[keys[i]]; n > 0 {
				v = 1 + (n-1)%DefaultVersions
			}
			want.Value = w.stored[keys[i]][v]
		}
		if r != want {
			t.Fatalf("request %d recorded as %+v, want %+v", i, r, want)
		}
	}
	if w.stored[0][1] == w.stored[0][0] {
		t.Error("versions 0 and 1 of a key have the same size: the test cannot tell them apart")
	}
	none, _ := NewTargeter(w, TargeterConfig{ReadFraction: 0.5, Reads: pop})
	draw(t, w, none, 10)
	if rec, _ := none.Trace(); rec != nil {
		t.Errorf("recorded %d requests without Record, want none", len(rec))
	}
}

func TestNewWorkloadBadURL(t *testing.T) {
	ds, _ := testWorkload(t, 1)
	for _, u := range []string{"", "localhost:5000", "ftp://x/"} {
		if _, err := NewWorkload(u, ds, 1, false); err == nil {
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
	tr, _ := NewTargeter(w, TargeterConfig{ReadFraction: 0.5, Reads: pop, Seed: 1})
	b.RunParallel(func(pb *testing.PB) {
		var tgt vegeta.Target
		for pb.Next() {
			_ = tr.Next(&tgt)
		}
	})
}

// With several backends the targeter hands requests to each in turn: every backend gets the same
// share of reads and of writes, and the keys drawn are those one backend would get with the seed.
func TestTargeterSpreadsOverBackends(t *testing.T) {
	for _, tc := range []struct {
		name     string
		backends int
	}{
		{"one backend", 1},
		{"two backends", 2},
		{"three backends", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := NewDataset(DatasetConfig{Images: 20, MinBytes: 1000, MedianBytes: 2000, MaxBytes: 4000})
			if err != nil {
				t.Fatal(err)
			}
			var bases []string
			for i := range tc.backends {
				bases = append(bases, fmt.Sprintf("http://127.0.0.%d:5000", i+1))
			}
			w, err := NewWorkloadOn(bases, ds, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			one, err := NewWorkload(bases[0], ds, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			pop, _ := NewZipf(20, 1.1, 3)
			cfg := TargeterConfig{ReadFraction: 0.5, Reads: pop, Seed: 7}
			tr, _ := NewTargeter(w, cfg)
			ref, _ := NewTargeter(one, cfg)
			const n = 600
			reads, writes := map[string]int{}, map[string]int{}
			for i := range n {
				var got, want vegeta.Target
				if err := tr.Next(&got); err != nil {
					t.Fatal(err)
				}
				_ = ref.Next(&want)
				u, err := url.Parse(got.URL)
				if err != nil {
					t.Fatal(err)
				}
				if wantHost := strings.TrimPrefix(bases[i%tc.backends], "http://"); u.Host != wantHost {
					t.Fatalf("request %d went to %s, want %s (round robin)", i, u.Host, wantHost)
				}
				if u.Path != strings.TrimPrefix(want.URL, bases[0]) {
					t.Fatalf("request %d is %s, want the single backend's %s", i, u.Path, want.URL)
				}
				if OpOf(&vegeta.Result{URL: got.URL}) == OpWrite {
					// Multipart boundaries are random: compare what the bodies carry.
					gk, gf := parseUpload(t, got)
					wk, wf := parseUpload(t, want)
					if gk != wk || !bytes.Equal(gf, wf) {
						t.Fatalf("request %d uploads %q (%d bytes), want the single backend's %q (%d bytes)", i, gk, len(gf), wk, len(wf))
					}
					writes[u.Host]++
				} else {
					reads[u.Host]++
				}
			}
			if len(reads)+len(writes) < 2*tc.backends {
				t.Errorf("reads by backend %v, writes by backend %v: want both kinds at each of %d", reads, writes, tc.backends)
			}
			for _, b := range bases {
				h := strings.TrimPrefix(b, "http://")
				if got := reads[h] + writes[h]; got != n/tc.backends {
					t.Errorf("backend %s got %d requests, want %d", h, got, n/tc.backends)
				}
			}
			for i := range 5 { // the data set's upload is spread too
				if got, want := w.Initial(i).URL, bases[i%tc.backends]+api.PathUpload; got != want {
					t.Errorf("initial upload %d to %s, want %s", i, got, want)
				}
			}
		})
	}
}
