package app_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"imgcache/app"
	"imgcache/app/s3store"
)

// storageTests are ParseStorage's cases; the fuzz target starts from their specs.
var storageTests = []struct {
	name    string
	spec    string
	want    app.Storage
	wantErr string // part of the error; "" for success
}{
	{name: "relative folder", spec: "file:data/images", want: app.Storage{Dir: "data/images"}},
	{name: "absolute folder", spec: "file:/srv/imgcache/images", want: app.Storage{Dir: "/srv/imgcache/images"}},
	{name: "folder with spaces and colons", spec: "file:my images:2", want: app.Storage{Dir: "my images:2"}},
	{name: "s3 on http", spec: "s3://images?endpoint=http://127.0.0.1:7070",
		want: app.Storage{S3: &s3store.Config{Bucket: "images", Endpoint: "127.0.0.1:7070"}}},
	{name: "s3 on https with a region", spec: "s3://my-images.2026?endpoint=https://s3.eu-west-1.amazonaws.com&region=eu-west-1",
		want: app.Storage{S3: &s3store.Config{Bucket: "my-images.2026", Endpoint: "s3.eu-west-1.amazonaws.com", Secure: true, Region: "eu-west-1"}}},
	{name: "s3 with the parameters the other way round", spec: "s3://images?region=garage&endpoint=http://garage:3900",
		want: app.Storage{S3: &s3store.Config{Bucket: "images", Endpoint: "garage:3900", Region: "garage"}}},
	{name: "s3 on IPv6", spec: "s3://images?endpoint=http://[::1]:7070",
		want: app.Storage{S3: &s3store.Config{Bucket: "images", Endpoint: "[::1]:7070"}}},
	{name: "s3 with a trailing slash", spec: "s3://images/?endpoint=http://h:1/",
		want: app.Storage{S3: &s3store.Config{Bucket: "images", Endpoint: "h:1"}}},
	{name: "s3 with an escaped endpoint", spec: "s3://images?endpoint=http%3A%2F%2Fh%3A9000",
		want: app.Storage{S3: &s3store.Config{Bucket: "images", Endpoint: "h:9000"}}},

	{name: "empty", spec: "", wantErr: "want file:DIR or s3://"},
	{name: "bare path", spec: "/srv/images", wantErr: "want file:DIR or s3://"},
	{name: "other scheme", spec: "gs://images", wantErr: "want file:DIR or s3://"},
	{name: "upper-case scheme", spec: "S3://images?endpoint=http://h:1", wantErr: "want file:DIR or s3://"},
	{name: "file with no folder", spec: "file:", wantErr: "names no folder"},
	{name: "file URL", spec: "file:///srv/images", wantErr: "not as a file:// URL"},
	{name: "folder with a NUL", spec: "file:a\x00b", wantErr: "NUL"},
	{name: "no endpoint", spec: "s3://images", wantErr: "endpoint is missing"},
	{name: "empty endpoint", spec: "s3://images?endpoint=", wantErr: "endpoint is missing"},
	{name: "no bucket", spec: "s3://?endpoint=http://h:1", wantErr: "bucket"},
	{name: "upper-case bucket", spec: "s3://Images?endpoint=http://h:1", wantErr: `bucket "Images"`},
	{name: "bucket with a port", spec: "s3://images:80?endpoint=http://h:1", wantErr: "bucket"},
	{name: "bucket like an IP address", spec: "s3://192.168.1.1?endpoint=http://h:1", wantErr: "bucket"},
	{name: "bucket of two letters", spec: "s3://ab?endpoint=http://h:1", wantErr: "bucket"},
	{name: "path after the bucket", spec: "s3://images/cats?endpoint=http://h:1", wantErr: "no path"},
	{name: "credentials in the URL", spec: "s3://AKIA:sekrit@images?endpoint=http://h:1", wantErr: "AWS_ACCESS_KEY_ID"},
	{name: "credentials in the endpoint", spec: "s3://images?endpoint=http://AKIA:sekrit@h:1", wantErr: "AWS_ACCESS_KEY_ID"},
	{name: "fragment", spec: "s3://images?endpoint=http://h:1#x", wantErr: "fragment"},
	{name: "unknown parameter", spec: "s3://images?endpoint=http://h:1&regoin=x", wantErr: `unknown parameter "regoin"`},
	{name: "endpoint twice", spec: "s3://images?endpoint=http://h:1&endpoint=http://i:2", wantErr: "endpoint is given 2 times"},
	{name: "semicolon separator", spec: "s3://images?endpoint=http://h:1;region=x", wantErr: "query"},
	{name: "bad escape", spec: "s3://images?endpoint=http://h:1&region=%zz", wantErr: "query"},
	{name: "endpoint without a scheme", spec: "s3://images?endpoint=h:9000", wantErr: "endpoint"},
	{name: "endpoint of another scheme", spec: "s3://images?endpoint=ftp://h:21", wantErr: `scheme "ftp"`},
	{name: "endpoint with a path", spec: "s3://images?endpoint=http://h:1/s3", wantErr: "takes no path"},
	{name: "endpoint with no host", spec: "s3://images?endpoint=http://:9000", wantErr: "host"},
	{name: "endpoint with a port of 0", spec: "s3://images?endpoint=http://h:0", wantErr: `port "0"`},
	{name: "endpoint with a port too large", spec: "s3://images?endpoint=http://h:65536", wantErr: `port "65536"`},
	{name: "endpoint with an empty port", spec: "s3://images?endpoint=http://h:", wantErr: "empty port"},
	{name: "endpoint host with an ampersand", spec: "s3://images?endpoint=http%3A%2F%2Fa%26b%3A1", wantErr: "DNS name"},
	{name: "endpoint with a raw IPv6 zone", spec: "s3://images?endpoint=http://[fe80::1%25eth0]:1", wantErr: "endpoint"},
	{name: "endpoint with an IPv6 zone", spec: "s3://images?endpoint=http://[fe80::1%252525eth0]:1", wantErr: "host"},
	{name: "empty region", spec: "s3://images?endpoint=http://h:1&region=", wantErr: "region"},
	{name: "region with a space", spec: "s3://images?endpoint=http://h:1&region=eu+west", wantErr: "region"},
}

func TestParseStorage(t *testing.T) {
	for _, tt := range storageTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := app.ParseStorage(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseStorage(%q) = %+v, %v; want an error mentioning %q", tt.spec, got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "sekrit") {
					t.Errorf("ParseStorage(%q): the error %q repeats the secret", tt.spec, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseStorage(%q) = %s, %v; want %s", tt.spec, show(got), err, show(tt.want))
			}
			if again, err := app.ParseStorage(got.String()); err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("ParseStorage(%q), the canonical form, = %s, %v; want %s", got.String(), show(again), err, show(got))
			}
		})
	}
}

// show prints a Storage with its S3 config, not the pointer.
func show(s app.Storage) string {
	if s.S3 == nil {
		return "{Dir: " + s.Dir + "}"
	}
	return fmt.Sprintf("{S3: %+v}", *s.S3)
}

// FuzzParseStorage: any string either fails or gives exactly one valid target, whose canonical form
// parses back to the same target.
func FuzzParseStorage(f *testing.F) {
	for _, tt := range storageTests {
		f.Add(tt.spec)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := app.ParseStorage(spec)
		if err != nil {
			if got != (app.Storage{}) {
				t.Errorf("ParseStorage(%q) failed but returned %s", spec, show(got))
			}
			return
		}
		switch {
		case (got.Dir == "") == (got.S3 == nil):
			t.Fatalf("ParseStorage(%q) = %s; want exactly one of Dir and S3", spec, show(got))
		case got.S3 == nil && strings.ContainsRune(got.Dir, 0):
			t.Errorf("ParseStorage(%q): folder %q has a NUL", spec, got.Dir)
		case got.S3 != nil:
			if err := s3utils.CheckValidBucketNameStrict(got.S3.Bucket); err != nil {
				t.Errorf("ParseStorage(%q): bucket %q: %v", spec, got.S3.Bucket, err)
			}
			if got.S3.Endpoint == "" || strings.ContainsAny(got.S3.Endpoint, "/?#&@% ") {
				t.Errorf("ParseStorage(%q): endpoint %q is not HOST[:PORT]", spec, got.S3.Endpoint)
			}
			if got.S3.AccessKey != "" || got.S3.SecretKey != "" {
				t.Errorf("ParseStorage(%q) set credentials", spec)
			}
		}
		again, err := app.ParseStorage(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("ParseStorage(%q) = %s, whose canonical form %q parses to %s, %v", spec, show(got), got.String(), show(again), err)
		}
	})
}
