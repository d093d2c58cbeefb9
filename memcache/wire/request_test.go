package wire

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantValue bool
		want      Request
		wantErr   string // a part of the message; "" means no error
	}{
		{"get", `{"key":"k"}`, false, Request{Key: "k"}, ""},
		{"put", `{"key":"k","value":"aGk="}`, true, Request{Key: "k", Value: []byte("aGk=")}, ""},
		{"escaped value", `{"key":"k","value":"a\/8="}`, true, Request{Key: "k", Value: []byte("a/8=")}, ""},
		{"fill", `{"key":"k","value":"","lease":42}`, true, Request{Key: "k", Value: []byte{}, Lease: 42}, ""},
		{"lease as a string", `{"key":"k","lease":"7"}`, false, Request{Key: "k", Lease: 7}, ""},
		{"empty body", ``, false, Request{}, "empty body"},
		{"not JSON", `key=k`, false, Request{}, "malformed JSON"},
		{"trailing garbage", `{"key":"x"} garbage`, false, Request{}, "data after the object"},
		{"two objects", `{"key":"x"}{"key":"y"}`, false, Request{}, "data after the object"},
		{"no key", `{"value":"aGk="}`, true, Request{}, `missing "key"`},
		{"empty key", `{"key":""}`, false, Request{}, "empty key"},
		{"NUL in key", `{"key":"a\u0000b"}`, false, Request{}, "control character"},
		{"newline in key", `{"key":"a\nb"}`, false, Request{}, "control character"},
		{"long key", `{"key":"` + strings.Repeat("k", MaxKeyLen+1) + `"}`, false, Request{}, "over the limit"},
		{"bad lease", `{"key":"k","lease":-1}`, false, Request{}, "not a whole number"},
		{"fractional lease", `{"key":"k","lease":1.5}`, false, Request{}, "not a whole number"},
		{"no value", `{"key":"k"}`, true, Request{}, `missing "value"`},
		{"null value", `{"key":"k","value":null}`, true, Request{}, `missing "value"`},
		{"number value", `{"key":"k","value":12}`, true, Request{}, "must be a base64 string"},
		{"not base64", `{"key":"k","value":"a!b="}`, true, Request{}, "not valid base64"},
		{"unpadded", `{"key":"k","value":"aGk"}`, true, Request{}, "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJSON([]byte(tt.body), tt.wantValue)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("DecodeJSON(%q) error = %v, want ErrMalformed saying %q", tt.body, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Key != tt.want.Key || got.Lease != tt.want.Lease || !bytes.Equal(got.Value, tt.want.Value) || got.Binary {
				t.Errorf("DecodeJSON(%q) = %+v, %v; want %+v", tt.body, got, err, tt.want)
			}
			if tt.wantValue && got.Value == nil {
				t.Errorf("DecodeJSON(%q) value is nil, want non-nil", tt.body)
			}
		})
	}
}

func TestDecodeBinary(t *testing.T) {
	tests := []struct {
		name, key, lease, body string
		wantValue              bool
		wantErr                string
	}{
		{"get", "k", "", "", false, ""},
		{"put", "k", "", "aGk=", true, ""},
		{"fill", "k", "9", "aGk=", true, ""},
		{"empty value", "k", "", "", true, ""},
		{"empty key", "", "", "", false, "empty key"},
		{"NUL in key", "a\x00", "", "", false, "control character"},
		{"invalid UTF-8", "a\xff", "", "", false, "not valid UTF-8"},
		{"bad lease", "k", "x", "", false, "not a whole number"},
		{"bad value", "k", "", "###", true, "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			got, err := DecodeBinary([]byte(tt.key), []byte(tt.lease), body, tt.wantValue)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want ErrMalformed saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Key != tt.key || !got.Binary {
				t.Fatalf("DecodeBinary = %+v, %v", got, err)
			}
			if tt.wantValue {
				if string(got.Value) != tt.body {
					t.Errorf("value = %q, want %q", got.Value, tt.body)
				}
				if len(body) > 0 {
					body[0] = '!' // fasthttp reuses its buffer: the value must be a copy
					if got.Value[0] == '!' {
						t.Error("the value shares the request body's buffer")
					}
				}
			}
		})
	}
}

func TestValidBase64(t *testing.T) {
	for in, want := range map[string]bool{"": true, "aGk=": true, "aA==": true, "abcd": true, "ab+/": true,
		"aGk": false, "a===": false, "ab-_": false, "ab=c": false, "a b=": false} {
		if got := ValidBase64([]byte(in)); got != want {
			t.Errorf("ValidBase64(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestKeyURLRoundTrip(t *testing.T) {
	for _, key := range []string{"k", "a b", "a/b?c=d&e#f", "ключ", "100%"} {
		u, err := url.Parse(KeyURL("http://h:1", PathGet, key, 77))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if got := q.Get(QueryKey); got != key || u.Path != PathGet || q.Get(QueryLease) != "77" {
			t.Errorf("KeyURL(%q) = %s: key %q, path %q, lease %q", key, u, got, u.Path, q.Get(QueryLease))
		}
	}
	if u := KeyURL("http://h:1", PathGet, "k", 0); strings.Contains(u, QueryLease) {
		t.Errorf("KeyURL without a lease = %s, want no lease", u)
	}
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]string{"Least Recently Used": PolicyLRU, " lru ": PolicyLRU, "LRU": PolicyLRU,
		"Random Replacement": PolicyRandom, "RR": PolicyRandom, "random": PolicyRandom,
		"SIEVE": PolicySIEVE, " sieve": PolicySIEVE, "S3-FIFO": PolicyS3FIFO, "s3fifo": PolicyS3FIFO} {
		got, err := ParsePolicy(in)
		if err != nil || got.Name != want {
			t.Errorf("ParsePolicy(%q) = %q, %v; want %q", in, got.Name, err, want)
		}
	}
	for _, bad := range []string{"", "LFU", "Least  Recently Used"} {
		if _, err := ParsePolicy(bad); !errors.Is(err, ErrUnknownPolicy) {
			t.Errorf("ParsePolicy(%q) error = %v, want ErrUnknownPolicy", bad, err)
		}
	}
}

// FuzzDecodeJSON: no body makes the decoder panic, and whatever it accepts obeys the key rule and,
// for a put, is valid base64 that decodes.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"key":"k"}`, `{"key":"k","value":"aGk=","lease":3}`, `{"key":"a\u0000"}`,
		`{"key":"x"} garbage`, `{"key":"k","value":"a\/8="}`, `[]`, `null`, `{"key":1}`} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, wantValue bool) {
		r, err := DecodeJSON(body, wantValue)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		checkAccepted(t, r, wantValue)
	})
}

// FuzzDecodeBinary is FuzzDecodeJSON for binary mode.
func FuzzDecodeBinary(f *testing.F) {
	f.Add([]byte("k"), []byte("12"), []byte("aGk="), true)
	f.Add([]byte("a\x00b"), []byte(""), []byte(""), false)
	f.Add([]byte("k"), []byte("-1"), []byte("==="), true)
	f.Fuzz(func(t *testing.T, key, lease, body []byte, wantValue bool) {
		r, err := DecodeBinary(key, lease, body, wantValue)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		checkAccepted(t, r, wantValue)
	})
}

func checkAccepted(t *testing.T, r Request, wantValue bool) {
	t.Helper()
	if err := CheckKey(r.Key); err != nil {
		t.Fatalf("accepted key %q: %v", r.Key, err)
	}
	if wantValue {
		if _, err := base64.StdEncoding.DecodeString(string(r.Value)); err != nil {
			t.Fatalf("accepted value %q does not decode: %v", r.Value, err)
		}
	}
}
