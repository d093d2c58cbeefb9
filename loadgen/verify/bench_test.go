package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkRead compares what reading one answer costs loadgen without verification (vegeta drains
// the body) and with it (the body is scanned, decoded and hashed, and the result observed), for
// images of the sizes loadgen maxrate (3 KB) and make bench (100 KB) use.
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{3 << 10, 100 << 10} {
		img := make([]byte, size)
		r := rand.New(rand.NewPCG(1, 1))
		for i := range img {
			img[i] = byte(r.Uint32())
		}
		body, _ := json.Marshal(map[string]string{"success": "true", "key": "lg-0001", "content": base64.StdEncoding.EncodeToString(img)})
		b.Run(sizeName(size)+"/drain", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_, _ = io.Copy(io.Discard, bytes.NewReader(body))
			}
		})
		b.Run(sizeName(size)+"/verify", func(b *testing.B) {
			v, err := New([]Key{{Name: "lg-0001", ReadURLs: []string{"http://h/api/key/lg-0001"}, Versions: []Version{{Digest: Of(img)}}}})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			res := vegeta.Result{Timestamp: time.Now(), Latency: time.Millisecond, Code: 200}
			var seq uint64
			for b.Loop() {
				rb := &readBody{rc: io.NopCloser(bytes.NewReader(body)), key: 0, status: http.StatusOK}
				res.Body, _ = io.ReadAll(io.LimitReader(rb, MaxBody))
				res.Seq = seq
				seq++
				res.Timestamp = res.Timestamp.Add(time.Microsecond)
				v.Observe(&res)
			}
			if c := v.EndStep(); c.Verified != int64(seq) || c.Unverified() != 0 {
				b.Fatalf("%+v after %d reads", c, seq)
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return string(rune('0'+n>>10/100%10)) + string(rune('0'+n>>10/10%10)) + string(rune('0'+n>>10%10)) + "KB"
	}
	return "small"
}
