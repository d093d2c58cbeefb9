package app

import (
	"bytes"
	"errors"
	"mime/multipart"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"imgcache/app/api"
)

// Fuzz targets of every parser of untrusted input in the backend. Their seeds run in `go test`; run
// one for longer with, for example, go test -run x -fuzz FuzzParseForm -fuzztime 60s ./app/

// FuzzParseForm: no body panics the form parser; what it accepts has at most maxFormParts fields and
// files, no name twice; every refusal is an ErrInvalid.
func FuzzParseForm(f *testing.F) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.SetBoundary("B")
	w.WriteField("key", "k")
	fw, _ := w.CreateFormFile("file", "a.png")
	fw.Write([]byte("\x89PNG\r\n\x1a\n"))
	w.Close()
	f.Add("multipart/form-data; boundary=B", b.Bytes())
	f.Add("multipart/form-data; boundary=B", []byte("--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\na\r\n--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nb\r\n--B--\r\n"))
	f.Add("multipart/form-data; boundary=B", []byte(strings.Repeat("--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n", 20)+"--B--\r\n"))
	f.Add("text/plain", []byte("key=k"))
	f.Add("multipart/form-data", []byte("--\r\n"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		fields, files, err := parseForm(contentType, body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if n := len(fields) + len(files); n > maxFormParts {
			t.Fatalf("accepted %d parts", n)
		}
		for name := range files {
			if _, both := fields[name]; both {
				t.Fatalf("%q is both a field and a file", name)
			}
		}
	})
}

// FuzzKeyFromPath: whatever the path, the key it yields obeys the key rule.
func FuzzKeyFromPath(f *testing.F) {
	for _, p := range []string{"/api/key/k", "/api/key/a%2Fb", "/api/key/..%2F..%2Fetc%2Fpasswd", "/api/key/%00",
		"/api/key/%zz", "/api/key/", "/api/x", "/api/key/" + strings.Repeat("%41", 300), "/api/delete/a%2F..", "/api/delete/"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		for _, prefix := range []string{api.PathKeyPrefix, api.PathDeletePrefix} {
			key, err := KeyFromPath(path, prefix)
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v is not ErrInvalid", err)
				}
				continue
			}
			checkKeyRule(t, key)
		}
	})
}

// FuzzCheckKey: CheckKey accepts exactly the keys of the rule.
func FuzzCheckKey(f *testing.F) {
	for _, k := range []string{"k", "", "a\x00b", "a\nb", "\xff", strings.Repeat("k", 256), "ключ", "a/../b", "\u2028"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := CheckKey(key)
		valid := key != "" && len(key) <= MaxKeyLen && utf8.ValidString(key) && !strings.ContainsFunc(key, unicode.IsControl)
		if valid != (err == nil) {
			t.Fatalf("CheckKey(%q) = %v, but the rule says valid=%v", key, err, valid)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v is not ErrInvalid", err)
		}
	})
}

func checkKeyRule(t *testing.T, key string) {
	t.Helper()
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) || strings.ContainsFunc(key, unicode.IsControl) {
		t.Fatalf("accepted key %q breaks the key rule", key)
	}
}
