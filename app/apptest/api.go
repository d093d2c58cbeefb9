package apptest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
)

// APIAnswer is any API body.
type APIAnswer struct {
	Success string   `json:"success"`
	Key     string   `json:"key"`
	Content string   `json:"content"`
	Keys    []string `json:"keys"`
	Error   struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Call sends an API request and decodes its answer, checking the failure shape of an error.
func Call(t *testing.T, method, u, contentType string, body []byte) (int, APIAnswer) {
	t.Helper()
	status, raw := Do(t, method, u, contentType, bytes.NewReader(body))
	var a APIAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, u, raw, err)
	}
	if status >= 400 && (a.Success != "false" || a.Error.Code != status || a.Error.Message == "") {
		t.Errorf("%s %s: status %d with body %s; want the failure shape with code %d", method, u, status, raw, status)
	}
	return status, a
}

// Upload uploads file under key through the API.
func Upload(t *testing.T, base, key string, file []byte) (int, APIAnswer) {
	t.Helper()
	body, ct := MultipartBody(t, map[string]string{"key": key}, "x.png", file)
	return Call(t, "POST", base+"/api/upload", ct, body.Bytes())
}

// ReadKey reads key through the API.
func ReadKey(t *testing.T, base, key string) (int, APIAnswer) {
	t.Helper()
	return Call(t, "POST", base+"/api/key/"+url.PathEscape(key), "", nil)
}
