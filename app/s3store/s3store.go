// Package s3store keeps image objects in a bucket of an S3-compatible object store, under names the server chooses.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"imgcache/app/imagestore"
)

// DefaultTimeout bounds each request to the store when Config.Timeout is zero, so that a store that
// hangs fails the call that was waiting on it instead of holding a request forever.
const DefaultTimeout = 10 * time.Second

const (
	// maxRetries is how many times a request is tried. minio-go tries 10 times with backoff by
	// default, which makes a store that is down cost seconds per request; three attempts still ride
	// out a dropped keep-alive connection.
	maxRetries = 3
	// listPage is how many keys one listing request asks for: S3's own maximum.
	listPage = 1000
	// idlePerHost keeps enough connections open for a busy backend; minio-go's transport keeps 16,
	// and every request above that would open and close a connection of its own.
	idlePerHost = 64
)

// Config says where a bucket is and how to reach it.
type Config struct {
	Bucket   string // created at Open if missing
	Endpoint string // HOST:PORT of the S3 API
	Secure   bool   // https
	// Region signs the requests and places a new bucket; empty asks the store for the bucket's region.
	Region string
	// AccessKey and SecretKey are the credentials; the caller reads them from wherever it keeps them.
	AccessKey, SecretKey string
	// Timeout bounds each request to the store (a listing page is one request); 0 means DefaultTimeout.
	Timeout time.Duration
}

// Store keeps image objects at the top level of one bucket, addressed path-style (BUCKET after the
// host, not in its name), as self-hosted stores need. It is safe for concurrent use, by several
// processes too: an object is written whole by one PUT under a name never chosen twice.
type Store struct {
	client    *minio.Client
	bucket    string
	timeout   time.Duration
	transport *http.Transport
	pageSize  int // keys per listing request; tests make it small to cross pages
}

// Open connects to the store and makes sure the bucket exists, creating it if missing.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, fmt.Errorf("open bucket %q at %s: no credentials (access key and secret key)", cfg.Bucket, cfg.Endpoint)
	}
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("open bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	tr.MaxIdleConnsPerHost = idlePerHost
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    tr,
		MaxRetries:   maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("open bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	s := &Store{client: client, bucket: cfg.Bucket, timeout: cfg.Timeout, transport: tr, pageSize: listPage}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		s.Close()
		return nil, fmt.Errorf("open bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	return s, nil
}

// ensureBucket creates the bucket unless it exists. Another backend may create it at the same
// moment: the store then answers that we own it already, which is as good.
func (s *Store) ensureBucket(ctx context.Context, region string) error {
	rctx, cancel := s.deadline(ctx)
	defer cancel()
	ok, err := s.client.BucketExists(rctx, s.bucket)
	if err != nil {
		return fmt.Errorf("check the bucket: %w", err)
	}
	if ok {
		return nil
	}
	rctx, cancel = s.deadline(ctx)
	defer cancel()
	err = s.client.MakeBucket(rctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil && code(err) != minio.BucketAlreadyOwnedByYou {
		return fmt.Errorf("create the bucket: %w", err)
	}
	return nil
}

// Close releases the idle connections to the store.
func (s *Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// deadline bounds one request to the store: by ctx, and by the store's timeout when that is sooner.
func (s *Store) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// code returns the S3 error code of err, or "" when err is not an answer from the store.
func code(err error) string {
	var r minio.ErrorResponse
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

// Put stores data, whose type must be contentType as imagestore.Sniff judges it, under a new random
// name, with that content type, and returns the name once the store has acknowledged the object.
// The object is one PUT, never a multipart upload, so it appears whole or not at all. When the
// answer is lost (a timeout), the object may exist all the same: an orphan that no row names.
func (s *Store) Put(ctx context.Context, data []byte, contentType string) (string, error) {
	if err := imagestore.CheckType(data, contentType); err != nil {
		return "", fmt.Errorf("put object: %w", err)
	}
	name, err := imagestore.NewName(contentType)
	if err != nil {
		return "", fmt.Errorf("put object: %w", err)
	}
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	_, err = s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType, DisableMultipart: true})
	if err != nil {
		return "", fmt.Errorf("put %q: %w", name, err)
	}
	return name, nil
}

// Get returns the bytes of the object called name, or an error wrapping imagestore.ErrNotFound when
// there is none, or when name is not one Put could have chosen (then the store is not asked).
func (s *Store) Get(ctx context.Context, name string) ([]byte, error) {
	if !imagestore.ValidName(name) {
		return nil, fmt.Errorf("get %q: %w", name, imagestore.ErrNotFound)
	}
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	// Core's GetObject is one request; Client's would add a goroutine and a reader on top.
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if code(err) == minio.NoSuchKey {
		return nil, fmt.Errorf("get %q: %w: %w", name, imagestore.ErrNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", name, err)
	}
	defer body.Close()
	var data []byte
	if info.Size >= 0 {
		// The HTTP client holds the body to its Content-Length: a short body is an error here.
		data = make([]byte, info.Size)
		_, err = io.ReadFull(body, data)
	} else {
		data, err = io.ReadAll(body)
	}
	if err != nil {
		return nil, fmt.Errorf("get %q: read the body: %w", name, err)
	}
	return data, nil
}

// Delete removes the object called name; a missing object is not an error. A name Put could not
// have chosen is refused with imagestore.ErrNotFound, as the folder store does.
func (s *Store) Delete(ctx context.Context, name string) error {
	if !imagestore.ValidName(name) {
		return fmt.Errorf("delete %q: %w", name, imagestore.ErrNotFound)
	}
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	// S3 answers 204 for a missing key; some stores answer NoSuchKey instead.
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && code(err) != minio.NoSuchKey {
		return fmt.Errorf("delete %q: %w", name, err)
	}
	return nil
}

// List calls fn with the name and last-modified time of every object in the bucket named as Put
// names objects, in name order; anything else in the bucket is skipped. It stops at fn's first error
// and returns it. Each listing request has the store's timeout, but fn's time does not count: a
// long walk over a large bucket is bounded by ctx alone.
func (s *Store) List(ctx context.Context, fn func(name string, modified time.Time) error) error {
	after := ""
	for {
		page, more, err := s.listPage(ctx, after)
		if err != nil {
			return fmt.Errorf("list objects: %w", err)
		}
		for _, o := range page {
			if !imagestore.ValidName(o.Key) {
				continue
			}
			if err := fn(o.Key, o.LastModified); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// listPage returns up to pageSize objects after the key after, and whether more may follow.
func (s *Store) listPage(ctx context.Context, after string) (page []minio.ObjectInfo, more bool, err error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	opts := minio.ListObjectsOptions{Recursive: true, StartAfter: after, MaxKeys: s.pageSize}
	// Returning from the loop stops the iterator before it asks for the next page.
	for o := range s.client.ListObjectsIter(ctx, s.bucket, opts) {
		if o.Err != nil {
			return nil, false, o.Err
		}
		page = append(page, o)
		if len(page) == s.pageSize {
			return page, true, nil
		}
	}
	// The iterator also ends, without an error, when ctx ends: only a live ctx means the end.
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	return page, false, nil
}
