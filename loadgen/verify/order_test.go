package verify

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// answers is a RoundTripper that answers reads with one image and uploads with 200.
type answers struct{ img []byte }

func (a answers) RoundTrip(req *http.Request) (*http.Response, error) {
	body := `{"success":"true"}`
	if strings.Contains(req.URL.Path, "/api/key/") {
		b, _ := json.Marshal(map[string]string{"success": "true", "content": base64.StdEncoding.EncodeToString(a.img)})
		body = string(b)
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}, nil
}

// TestVerifierOutOfOrder: results come in the order requests finish. A read that returns the
// version of an upload sent before the read finished is fine even when the upload's result comes
// after the read's; a read sent after that upload was acknowledged that returns the older version
// is stale.
func TestVerifierOutOfOrder(t *testing.T) {
	imgs := [][]byte{[]byte("version zero"), []byte("version one")}
	const readURL, uploadURL = "http://h/api/key/k", "http://h/api/upload"
	v, err := New([]Key{{Name: "k", ReadURLs: []string{readURL}, Versions: []Version{
		{Digest: Of(imgs[0])}, {Digest: Of(imgs[1]), Body: []byte("upload v1"), Header: http.Header{"Content-Type": {"multipart/form-data"}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(time.Second) // after New: the data set's upload
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	// send sends a request through the verifier's targeter and transport as vegeta would, and
	// returns the result vegeta would make of it.
	send := func(seq uint64, url string, body []byte, img []byte, sent, done time.Time) *vegeta.Result {
		tgt := vegeta.Target{Method: http.MethodPost, URL: url, Body: body}
		if err := v.Targeter(func(t *vegeta.Target) error { *t = tgt; return nil })(&tgt); err != nil {
			t.Fatal(err)
		}
		req, err := tgt.Request()
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Vegeta-Seq", strconv.FormatUint(seq, 10))
		resp, err := v.Transport(answers{img}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
		if err != nil {
			t.Fatal(err)
		}
		return &vegeta.Result{Seq: seq, URL: url, Code: 200, Body: b, Timestamp: sent, Latency: done.Sub(sent)}
	}
	write := send(1, uploadURL, v.keys[0].Versions[1].Body, nil, ms(10), ms(30))
	early := send(2, readURL, nil, imgs[1], ms(12), ms(20)) // sees the upload in flight
	fresh := send(3, readURL, nil, imgs[1], ms(40), ms(41))
	stale := send(4, readURL, nil, imgs[0], ms(42), ms(43)) // the upload was acknowledged at 30
	first := send(0, readURL, nil, imgs[0], ms(1), ms(2))
	for _, r := range []*vegeta.Result{early, write, fresh, stale, first} {
		v.Observe(r)
	}
	got := v.EndStep()
	if got.Verified != 4 || got.Wrong != 0 || got.Stale != 1 || len(got.BadReads) != 1 {
		t.Fatalf("got %+v, want 4 verified, 1 stale", got)
	}
	if b := got.BadReads[0]; b.Got != "v0" || b.Expected != "v1" || !b.Sent.Equal(ms(42)) || !b.ExpectedAcked.Equal(ms(30)) {
		t.Errorf("bad read %+v, want v0 got for v1 acknowledged at 30 ms, read sent at 42 ms", b)
	}
}

// absent answers every request with 404 but deletions, which succeed.
type absent struct{}

func (absent) RoundTrip(req *http.Request) (*http.Response, error) {
	code := http.StatusNotFound
	if strings.Contains(req.URL.Path, "/api/delete/") {
		code = http.StatusOK
	}
	return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader(`{"success":"false"}`)), Header: http.Header{}}, nil
}

// TestVerifierDeletes: a 404 is stale while the key's upload stands, and fine once a deletion was
// acknowledged.
func TestVerifierDeletes(t *testing.T) {
	const readURL, deleteURL = "http://h/api/key/k", "http://h/api/delete/k"
	v, err := New([]Key{{Name: "k", ReadURLs: []string{readURL}, DeleteURLs: []string{deleteURL}, Versions: []Version{{Digest: Of([]byte("v0"))}}}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(time.Second)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	send := func(seq uint64, url string, sent, done time.Time) *vegeta.Result {
		tgt := vegeta.Target{Method: http.MethodPost, URL: url}
		if err := v.Targeter(func(t *vegeta.Target) error { *t = tgt; return nil })(&tgt); err != nil {
			t.Fatal(err)
		}
		req, err := tgt.Request()
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Vegeta-Seq", strconv.FormatUint(seq, 10))
		resp, err := v.Transport(absent{}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
		return &vegeta.Result{Seq: seq, URL: url, Code: uint16(resp.StatusCode), Body: b, Timestamp: sent, Latency: done.Sub(sent)}
	}
	for _, r := range []*vegeta.Result{
		send(0, readURL, ms(1), ms(2)), // stale: the data set's upload stands
		send(1, deleteURL, ms(10), ms(20)),
		send(2, readURL, ms(30), ms(31)), // fine: deleted
	} {
		v.Observe(r)
	}
	got := v.EndStep()
	if got.Verified != 2 || got.Stale != 1 || got.Wrong != 0 || got.BadReads[0].Got != "absent (404)" || !got.BadReads[0].Sent.Equal(ms(1)) {
		t.Errorf("got %+v, want 2 verified, the first stale", got)
	}
}
