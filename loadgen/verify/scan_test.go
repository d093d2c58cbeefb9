package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cespare/xxhash/v2"
)

func TestScanContent(t *testing.T) {
	img := []byte("\x89PNG\r\n\x1a\n some image bytes ??>>") // base64 of it holds '/' and '+'
	b64 := base64.StdEncoding.EncodeToString(img)
	if !strings.ContainsAny(b64, "/+") {
		t.Fatalf("test image's base64 %q lacks / or +", b64)
	}
	big := make([]byte, 3*readBuf+7) // several reads, and a padded end
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	for _, tc := range []struct {
		name string
		body string
		want []byte // nil: no valid content
	}{
		{"compact", `{"success":"true","key":"cat","content":"` + b64 + `"}`, img},
		{"spaces", "{ \"success\" : \"true\" ,\n \"content\" :\t\"" + b64 + "\" }", img},
		{"escaped slashes", `{"content":"` + strings.ReplaceAll(b64, "/", `\/`) + `"}`, img},
		{"key named content", `{"key":"content","other":{"content":"QUFB"},"content":"` + b64 + `"}`, img},
		{"content in an array first", `{"list":["content",{"content":"QUFB"}],"content":"` + b64 + `"}`, img},
		{"escaped quote in a key", `{"key":"a\"content","content":"` + b64 + `"}`, img},
		{"empty image", `{"content":""}`, []byte{}},
		{"large", `{"key":"big","content":"` + base64.StdEncoding.EncodeToString(big) + `"}`, big},
		{"no content", `{"success":"true","key":"cat"}`, nil},
		{"not json", `<html>oops</html>`, nil},
		{"content is a number", `{"content":12}`, nil},
		{"content nested only", `{"image":{"content":"` + b64 + `"}}`, nil},
		{"other escape", `{"content":"QUJD\nREVG"}`, nil},
		{"unterminated", `{"content":"QUJD`, nil},
		{"prefix key", `{"contents":"QUJD"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok, err := scanContent(strings.NewReader(tc.body))
			d1, ok1, err1 := scanContent(iotest.OneByteReader(strings.NewReader(tc.body)))
			if err != nil || err1 != nil {
				t.Fatal(err, err1)
			}
			if d != d1 || ok != ok1 {
				t.Errorf("byte by byte: %v %v, whole: %v %v", d1, ok1, d, ok)
			}
			switch {
			case tc.want == nil && ok:
				t.Errorf("got content %v, want none", d)
			case tc.want != nil && (!ok || d != Of(tc.want)):
				t.Errorf("got %v %v, want %v", d, ok, Of(tc.want))
			}
		})
	}
}

// TestScanContentNotBase64: text that is not canonical base64 is hashed as it is, and so matches no
// image's digest, which Of computes over canonical base64.
func TestScanContentNotBase64(t *testing.T) {
	for _, text := range []string{"QUJD*EFG", "QUJDRA", "QQ==QUJD", "QR==", "QUJD\r\nREVG", "QUJDREVG=="} {
		d, ok, err := scanContent(strings.NewReader(`{"content":"` + text + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		if !ok && strings.Contains(text, "\\") {
			continue // an escape base64 never needs: refused outright
		}
		if !ok || d != (Digest{Sum: xxhash.Sum64String(text), Len: int64(len(text))}) {
			t.Errorf("%q: got %v %v, want the digest of the text", text, d, ok)
		}
		if img, err := base64.StdEncoding.Strict().DecodeString(text); err == nil && base64.StdEncoding.EncodeToString(img) == text {
			t.Errorf("%q is canonical base64: the test's premise is wrong", text)
		}
	}
}

func TestScanContentReadError(t *testing.T) {
	if _, _, err := scanContent(iotest.ErrReader(iotest.ErrTimeout)); err == nil {
		t.Error("no error from a failing body")
	}
}

// FuzzScanContent: any body is scanned without a panic, and an answer built the way the backend
// builds it always yields its image's digest.
func FuzzScanContent(f *testing.F) {
	f.Add([]byte("img"), []byte(`{"content":"QUJD"}`))
	f.Add([]byte{}, []byte(`{"a":[{"content":1}],"content":"\/\/\/\/"}`))
	f.Fuzz(func(t *testing.T, img, body []byte) {
		_, _, _ = scanContent(bytes.NewReader(body))
		b, err := json.Marshal(map[string]string{"success": "true", "key": string(body), "content": base64.StdEncoding.EncodeToString(img)})
		if err != nil {
			t.Fatal(err)
		}
		d, ok, err := scanContent(bytes.NewReader(b))
		if err != nil || !ok || d != Of(img) {
			t.Fatalf("%s: got %v %v %v, want %v", b, d, ok, err, Of(img))
		}
	})
}
