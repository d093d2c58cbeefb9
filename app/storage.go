package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"imgcache/app/imagestore"
	"imgcache/app/s3store"
)

// Storage is where the image objects live, as a storage spec names it: exactly one of Dir and S3 is set.
type Storage struct {
	Dir string          // file:DIR, a folder
	S3  *s3store.Config // s3://BUCKET?endpoint=..., without the credentials, which never go in a spec
}

var _ Objects = (*s3store.Store)(nil)

// storageForms is what every spec error reminds the reader of.
const storageForms = "file:DIR or s3://BUCKET?endpoint=http://HOST:PORT[&region=REGION]"

// ParseStorage parses a storage spec: file:DIR (a folder, relative or absolute), or
// s3://BUCKET?endpoint=http://HOST:PORT[&region=REGION] (https:// when the store speaks TLS). The spec
// may come from anyone who can set a flag or variable, so it is held to exactly these forms; an
// error never repeats the spec, which could hold a secret written in the wrong place.
func ParseStorage(spec string) (Storage, error) {
	switch {
	case strings.HasPrefix(spec, "file://"):
		return Storage{}, errors.New("storage: write a folder as file:DIR (file:/srv/images, file:images), not as a file:// URL")
	case strings.HasPrefix(spec, "file:"):
		dir := strings.TrimPrefix(spec, "file:")
		if dir == "" {
			return Storage{}, errors.New("storage: file: names no folder; want file:DIR")
		}
		if strings.ContainsRune(dir, 0) {
			return Storage{}, errors.New("storage: the folder name contains a NUL byte")
		}
		return Storage{Dir: dir}, nil
	case strings.HasPrefix(spec, "s3://"):
		c, err := parseS3(spec)
		if err != nil {
			return Storage{}, fmt.Errorf("storage: %w; want %s", err, storageForms)
		}
		return Storage{S3: &c}, nil
	}
	return Storage{}, fmt.Errorf("storage: want %s", storageForms)
}

// parseS3 parses an s3:// spec.
func parseS3(spec string) (s3store.Config, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return s3store.Config{}, fmt.Errorf("not a URL: %w", urlCause(err))
	}
	switch {
	case u.User != nil:
		return s3store.Config{}, errors.New("credentials do not go in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	case u.Path != "" && u.Path != "/":
		return s3store.Config{}, errors.New("s3://BUCKET takes no path: objects go at the top of the bucket")
	case u.Fragment != "" || strings.Contains(spec, "#"):
		return s3store.Config{}, errors.New("s3://BUCKET takes no #fragment")
	}
	if err := s3utils.CheckValidBucketNameStrict(u.Host); err != nil {
		return s3store.Config{}, fmt.Errorf("bucket %q: %w", u.Host, err)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return s3store.Config{}, fmt.Errorf("query: %w", err)
	}
	for k, vs := range q {
		switch {
		case k != "endpoint" && k != "region":
			return s3store.Config{}, fmt.Errorf("unknown parameter %q (known: endpoint, region)", k)
		case len(vs) > 1:
			return s3store.Config{}, fmt.Errorf("%s is given %d times", k, len(vs))
		}
	}
	host, secure, err := parseEndpoint(q.Get("endpoint"))
	if err != nil {
		return s3store.Config{}, err
	}
	region, hasRegion := q["region"]
	if hasRegion && !validRegion(region[0]) {
		return s3store.Config{}, fmt.Errorf("region %q: want 1 to 64 letters, digits, '-', '_' or '.'", region[0])
	}
	c := s3store.Config{Bucket: u.Host, Endpoint: host, Secure: secure}
	if hasRegion {
		c.Region = region[0]
	}
	return c, nil
}

// parseEndpoint parses the endpoint parameter, http://HOST[:PORT] or https://HOST[:PORT], into
// HOST[:PORT] and whether it is https. The host is a DNS name or an IP address, nothing looser.
func parseEndpoint(endpoint string) (host string, secure bool, err error) {
	if endpoint == "" {
		return "", false, errors.New("endpoint is missing: add ?endpoint=http://HOST:PORT (or https://HOST)")
	}
	e, err := url.Parse(endpoint)
	if err != nil {
		return "", false, fmt.Errorf("endpoint: %w", urlCause(err))
	}
	switch {
	case e.Scheme != "http" && e.Scheme != "https":
		return "", false, fmt.Errorf("endpoint: scheme %q; want http:// or https://", e.Scheme)
	case e.User != nil:
		return "", false, errors.New("endpoint: credentials do not go in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	case e.Opaque != "" || e.Host == "":
		return "", false, errors.New("endpoint: no host; want http://HOST:PORT")
	case e.Path != "" && e.Path != "/":
		return "", false, errors.New("endpoint: takes no path (the bucket goes after the host by itself)")
	case e.RawQuery != "" || e.ForceQuery || e.Fragment != "":
		return "", false, errors.New("endpoint: takes no query or fragment")
	}
	if !validHost(e.Host, e.Hostname()) {
		return "", false, fmt.Errorf("endpoint: host %q: want a DNS name or an IP address", e.Hostname())
	}
	if p := e.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", false, fmt.Errorf("endpoint: port %q: want 1 to 65535", p)
		}
	} else if strings.HasSuffix(e.Host, ":") {
		return "", false, errors.New("endpoint: empty port")
	}
	return e.Host, e.Scheme == "https", nil
}

// validHost reports whether hostname (from hostport) is a DNS name or an IP address: IPv6 in brackets,
// without a zone.
func validHost(hostport, hostname string) bool {
	if strings.HasPrefix(hostport, "[") {
		ip := net.ParseIP(hostname)
		return ip != nil && ip.To4() == nil
	}
	if hostname == "" || len(hostname) > 253 {
		return false
	}
	for _, c := range []byte(hostname) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validRegion reports whether r looks like a region name: AWS's eu-west-1, R2's auto, Garage's garage.
func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for _, c := range []byte(r) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// urlCause drops the *url.Error around a parse error: it repeats the whole input.
func urlCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// String returns the spec in its canonical form, which ParseStorage gives back unchanged.
func (s Storage) String() string {
	if s.S3 == nil {
		return "file:" + s.Dir
	}
	scheme := "http"
	if s.S3.Secure {
		scheme = "https"
	}
	spec := "s3://" + s.S3.Bucket + "?endpoint=" + scheme + "://" + s.S3.Endpoint
	if s.S3.Region != "" {
		spec += "&region=" + s.S3.Region
	}
	return spec
}

// OpenObjects opens the image store cfg.Storage names (by default the folder DataDir/images) and
// returns it with the function that closes it.
func OpenObjects(ctx context.Context, cfg Config) (Objects, func() error, error) {
	spec := cfg.Storage
	if spec == "" {
		spec = "file:" + filepath.Join(cfg.DataDir, "images")
	}
	st, err := ParseStorage(spec)
	if err != nil {
		return nil, nil, err
	}
	cfg.Logger.Info("image storage", "storage", st.String())
	if st.S3 == nil {
		folder, err := imagestore.Open(st.Dir)
		if err != nil {
			return nil, nil, fmt.Errorf("image folder: %w", err)
		}
		return folder, func() error { return nil }, nil
	}
	c := *st.S3
	c.AccessKey, c.SecretKey = cfg.S3AccessKey, cfg.S3SecretKey
	bucket, err := s3store.Open(ctx, c)
	if err != nil {
		return nil, nil, fmt.Errorf("image storage: %w", err)
	}
	return bucket, bucket.Close, nil
}
