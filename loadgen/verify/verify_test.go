package verify_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"imgcache/app/api"
	"imgcache/loadgen"
	"imgcache/loadgen/verify"
)

// store is a backend that answers some reads wrongly on purpose and counts what it injected.
type store struct {
	mu                   sync.Mutex
	cur, prev            map[string][]byte
	reads                int
	old, other, invalid  int // injected
	oldEvery, otherEvery int
	invalidEvery         int
}

func (s *store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == api.PathUpload {
		key := r.FormValue("key")
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(f)
		s.mu.Lock()
		s.prev[key], s.cur[key] = s.cur[key], b
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(api.Uploaded{Success: "true", Key: key})
		return
	}
	key := r.URL.Path[len(api.PathKeyPrefix):]
	s.mu.Lock()
	s.reads++
	b, ok := s.cur[key]
	content := ""
	switch {
	case !ok:
		s.mu.Unlock()
		http.Error(w, `{"success":"false"}`, http.StatusNotFound)
		return
	case s.reads%s.oldEvery == 0 && s.prev[key] != nil && string(s.prev[key]) != string(b):
		s.old++
		b = s.prev[key]
	case s.reads%s.otherEvery == 0:
		s.other++
		for k, o := range s.cur {
			if k != key {
				b = o
				break
			}
		}
	case s.reads%s.invalidEvery == 0:
		s.invalid++
		content = "not base64!"
	}
	s.mu.Unlock()
	if content == "" {
		content = base64.StdEncoding.EncodeToString(b)
	}
	_ = json.NewEncoder(w).Encode(api.Image{Success: "true", Key: key, Content: content})
}

// TestVerifierCounts attacks a backend that injects old versions, other keys' images and invalid
// base64, one request at a time, so that every injected old version is stale: the verifier must
// count exactly what was injected.
func TestVerifierCounts(t *testing.T) {
	const nKeys, nVersions = 4, 3
	st := &store{cur: map[string][]byte{}, prev: map[string][]byte{}, oldEvery: 7, otherEvery: 11, invalidEvery: 13}
	srv := httptest.NewServer(st)
	defer srv.Close()

	var keys []verify.Key
	for k := range nKeys {
		name := fmt.Sprintf("key%d", k)
		key := verify.Key{Name: name, ReadURLs: []string{srv.URL + api.KeyPath(name)}}
		for v := range nVersions {
			data := []byte(fmt.Sprintf("image %d version %d", k, v))
			up, err := loadgen.NewUpload(name, "png", data)
			if err != nil {
				t.Fatal(err)
			}
			key.Versions = append(key.Versions, verify.Version{Digest: verify.Of(data), Body: up.Body, Header: up.Header})
		}
		st.cur[name] = []byte(fmt.Sprintf("image %d version 0", k)) // as the data set's upload leaves it
		keys = append(keys, key)
	}
	v, err := verify.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		i        int
		versions [nKeys]int
	)
	tr := func(tgt *vegeta.Target) error {
		mu.Lock()
		defer mu.Unlock()
		i++
		k := (i / 3) % nKeys
		tgt.Method = http.MethodPost
		if i%3 == 0 { // a write: the next version of k
			versions[k] = 1 + versions[k]%(nVersions-1)
			ver := keys[k].Versions[versions[k]]
			tgt.URL, tgt.Body, tgt.Header = srv.URL+api.PathUpload, ver.Body, ver.Header
			return nil
		}
		tgt.URL, tgt.Body, tgt.Header = keys[(k+i)%nKeys].ReadURLs[0], nil, nil
		return nil
	}
	var reads, verified, wrong, stale int64
	for step := range 2 { // the keys' versions carry over from one attack to the next
		atk := vegeta.NewAttacker(vegeta.Workers(1), vegeta.MaxWorkers(1), vegeta.MaxBody(verify.MaxBody),
			vegeta.Client(&http.Client{Transport: v.Transport(http.DefaultTransport), Timeout: 5 * time.Second}))
		for r := range atk.Attack(v.Targeter(tr), vegeta.Rate{Freq: 500, Per: time.Second}, 400*time.Millisecond, "t") {
			if r.Error != "" {
				t.Fatalf("step %d: %s %s", step, r.URL, r.Error)
			}
			v.Observe(r)
			if r.Method == http.MethodPost && r.URL != srv.URL+api.PathUpload {
				reads++
			}
		}
		got := v.EndStep()
		verified, wrong, stale = verified+got.Verified, wrong+got.Wrong, stale+got.Stale
		if got.Unverified() > 0 && len(got.BadReads) == 0 || len(got.BadReads) > verify.MaxBad {
			t.Errorf("step %d: %d offending reads listed of %d", step, len(got.BadReads), got.Unverified())
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.old == 0 || st.other == 0 || st.invalid == 0 {
		t.Fatalf("injected %d old, %d other, %d invalid: want some of each", st.old, st.other, st.invalid)
	}
	if verified != reads || wrong != int64(st.other+st.invalid) || stale != int64(st.old) {
		t.Errorf("verified %d, wrong %d, stale %d; want %d, %d (%d other keys', %d invalid), %d",
			verified, wrong, stale, reads, st.other+st.invalid, st.other, st.invalid, st.old)
	}
}
