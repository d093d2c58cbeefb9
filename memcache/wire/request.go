package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Request is a decoded request of either encoding.
type Request struct {
	Key   string
	Value []byte // the base64 text; set only when asked for, and then never nil
	Lease Lease
	// Binary is true when the request came in binary mode, so the answer goes out in it too.
	Binary bool
}

// jsonRequest is the JSON form of a request body.
type jsonRequest struct {
	Key   *string         `json:"key"`
	Value json.RawMessage `json:"value"`
	Lease json.Number     `json:"lease"`
}

// MalformedError is a request the service cannot take; its text is the message for the caller.
type MalformedError struct{ Message string }

func (e *MalformedError) Error() string { return e.Message }

// Is makes every MalformedError an ErrMalformed.
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

func malformed(format string, args ...any) error {
	return &MalformedError{Message: fmt.Sprintf(format, args...)}
}

// DecodeBinary reads a binary-mode request: key and lease from the query (lease may be empty), the
// value from body when wantValue. The value is a copy: fasthttp reuses its buffers.
func DecodeBinary(key, lease, body []byte, wantValue bool) (Request, error) {
	r := Request{Key: string(key), Binary: true}
	if len(lease) > 0 {
		var err error
		if r.Lease, err = ParseLease(string(lease)); err != nil {
			return r, err
		}
	}
	if wantValue {
		r.Value = append(make([]byte, 0, len(body)), body...)
	}
	return r, check(r, wantValue)
}

// DecodeJSON reads a JSON request body {"key", "value", "lease"}; value is read only when wantValue.
// The value is a copy of body's bytes.
func DecodeJSON(body []byte, wantValue bool) (Request, error) {
	var r Request
	if len(bytes.TrimSpace(body)) == 0 {
		return r, malformed("empty body: send a JSON object with a \"key\"")
	}
	var req jsonRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return r, malformed("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return r, malformed("malformed JSON: data after the object")
	}
	if req.Key == nil {
		return r, malformed("missing \"key\"")
	}
	r.Key = *req.Key
	if req.Lease != "" {
		var err error
		if r.Lease, err = ParseLease(req.Lease.String()); err != nil {
			return r, err
		}
	}
	if wantValue {
		v, err := jsonValue(req.Value)
		if err != nil {
			return r, err
		}
		r.Value = v
	}
	return r, check(r, wantValue)
}

func check(r Request, wantValue bool) error {
	if err := CheckKey(r.Key); err != nil {
		return err
	}
	if wantValue && !ValidBase64(r.Value) {
		return malformed("value for key %q is not valid base64 (standard alphabet, padded)", r.Key)
	}
	return nil
}

// jsonValue extracts the base64 text of a JSON string without decoding it: base64 never needs
// escapes, so the common case is the bytes between the quotes. Escaped input ("\/" from some
// encoders) takes the slow path.
func jsonValue(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, malformed("missing \"value\"")
	}
	if raw[0] != '"' {
		return nil, malformed("\"value\" must be a base64 string")
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1 : len(raw)-1], nil // RawMessage is already a copy
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, malformed("\"value\": %v", err)
	}
	return []byte(v), nil
}

// CheckKey enforces the service's key rule: 1 to MaxKeyLen bytes of valid UTF-8 without control
// characters (the backend's rule, with a longer limit).
func CheckKey(k string) error {
	switch {
	case k == "":
		return malformed("empty key")
	case len(k) > MaxKeyLen:
		return malformed("key of %d bytes is over the limit of %d", len(k), MaxKeyLen)
	case !utf8.ValidString(k):
		return malformed("key is not valid UTF-8")
	}
	for _, r := range k {
		if unicode.IsControl(r) {
			return malformed("key contains the control character %U", r)
		}
	}
	return nil
}

// ValidBase64 reports whether b is standard, padded base64, without decoding it.
func ValidBase64(b []byte) bool {
	if len(b)%4 != 0 {
		return false
	}
	n := len(b)
	if n > 0 && b[n-1] == '=' {
		n--
		if n > 0 && b[n-1] == '=' {
			n--
		}
	}
	for _, c := range b[:n] {
		if !base64Alphabet[c] {
			return false
		}
	}
	return true
}

// base64Alphabet marks the bytes of the standard alphabet: a table, because a put checks every byte
// of a value of up to 32 MB.
var base64Alphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		t[c] = true
	}
	return t
}()

// KeyURL is the binary-mode URL of path for key under base (http://host:port), with the lease when
// it is not zero.
func KeyURL(base, path, key string, lease Lease) string {
	var b strings.Builder
	b.Grow(len(base) + len(path) + len(key) + 32)
	b.WriteString(base)
	b.WriteString(path)
	b.WriteString("?" + QueryKey + "=")
	b.WriteString(url.QueryEscape(key))
	if lease != 0 {
		b.WriteString("&" + QueryLease + "=")
		b.WriteString(lease.String())
	}
	return b.String()
}
