package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"imgcache/app/api"
	"imgcache/app/imagestore"
	"imgcache/database"
	"imgcache/memcache/client"
	"imgcache/memcache/wire"
)

// MaxKeyLen is the longest key in bytes.
const MaxKeyLen = api.MaxKeyLen

// CheckKey enforces the key rule: 1 to 255 bytes of valid UTF-8 without control characters. Any other
// character is allowed, "/" included; /api/key/<key> takes the key path-escaped.
func CheckKey(key string) error {
	switch {
	case key == "":
		return errorf(ErrInvalid, "the key is empty: give 1 to %d bytes", MaxKeyLen)
	case len(key) > MaxKeyLen:
		return errorf(ErrInvalid, "the key is %d bytes long; the limit is %d", len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return errorf(ErrInvalid, "the key is not valid UTF-8")
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return errorf(ErrInvalid, "the key contains the control character %U", r)
		}
	}
	return nil
}

// Image is an image as read for an answer.
type Image struct {
	Key         string
	Base64      []byte // the file's bytes, base64 (the form the cache keeps and the API answers), after Read's dst
	ContentType string
	Size        int64 // bytes of the file
	FromCache   bool
}

// DBError counts a database failure and marks it ErrUnavailable, keeping the cause for the log.
func (s *Server) DBError(op string, err error) error {
	s.metrics.dbErrors.Inc()
	return &Error{Kind: ErrUnavailable, Message: unavailableMessage, Cause: fmt.Errorf("%s: %w", op, err)}
}

// storeError marks a failure of the image store ErrUnavailable: a store that does not answer, or a
// folder that cannot be written, is worth retrying later.
func (s *Server) storeError(op string, err error) error {
	return &Error{Kind: ErrUnavailable, Message: "the image store is unavailable; try again shortly", Cause: fmt.Errorf("%s: %w", op, err)}
}

// afterCommit bounds the cache call that follows a commit. It runs detached from the request, so that
// a client that hangs up does not leave the replaced image's memory to eviction.
const afterCommit = 2 * time.Second

// Upload stores data under key: the object is written durably first, then the row that names it is
// committed, and only then does it return; the replaced object leaves the cache and the store last.
// A read never sees a row whose object is not written yet.
func (s *Server) Upload(ctx context.Context, key string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	contentType, err := s.cfg.CheckImage(data)
	if err != nil {
		return err
	}
	id := s.uploads.begin()
	defer s.uploads.end(id)
	name, err := s.objects.Put(ctx, data, contentType)
	if err != nil {
		return s.storeError(fmt.Sprintf("upload %q: store the object", key), err)
	}
	previous, err := s.commitRow(database.Image{
		Key: key, Location: name, Size: int64(len(data)), ContentType: contentType, UpdatedAt: time.Now().UTC(),
	})
	if err != nil {
		// When COMMIT itself failed the row may name the new object all the same (the server may still
		// be committing), so the object stays, and the sweep removes it if no row names it. Any other
		// failure rolled back: the object is an orphan now.
		if !errors.Is(err, database.ErrCommitUnknown) {
			s.removeObject(ctx, name)
		}
		return s.DBError(fmt.Sprintf("upload %q", key), err)
	}
	if previous != "" && previous != name {
		s.forget(ctx, previous)
	}
	return nil
}

// forget drops a replaced object from the store and then from the cache, to free its memory at once
// rather than at eviction. No row names it any more, so no read asks for it again whatever happens
// here. The order matters for memory: a read that found the old row and misses after the
// invalidation would otherwise load the object from the store and fill it under a fresh lease, into
// a cache entry no row names; with the object gone first, that read finds no object and reads the
// row again, and a fill from before the deletion holds a lease the invalidation revokes.
//
// The invalidation runs after the answer: it only frees memory, and a hung node must not hold an
// upload. Close waits for it.
func (s *Server) forget(ctx context.Context, name string) {
	s.removeObject(ctx, name)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterCommit)
	s.forgets.Go(func() {
		defer cancel()
		if err := s.cache.Invalidate(ctx, name); err != nil {
			s.NoteCacheErr(err)
		} else {
			s.NoteCacheOK()
		}
	})
}

// removeObject deletes an object no row names, detached from the request: its client hanging up must
// not leave an orphan.
func (s *Server) removeObject(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterCommit)
	defer cancel()
	if err := s.objects.Delete(ctx, name); err != nil {
		s.log.Error("cannot remove an image object", "name", name, "err", err)
	}
}

// maxReloads bounds how often a read follows a row whose object was replaced under it.
const maxReloads = 100

// Read returns the image stored under key, with Image.Base64 set to dst followed by the image's base64
// (so a handler can build its answer around it in one buffer).
//
// It reads the row first and asks the cache for the row's object name, never for the key. An object
// name is chosen anew for every upload and its content never changes, so whatever the cache holds
// under a name is that object: no cached value can be stale, on any backend, whatever invalidation
// failed or raced. The price is a database lookup before every cache hit, which concurrent reads
// share (lookupRow).
func (s *Server) Read(ctx context.Context, key string, dst []byte) (Image, error) {
	if err := CheckKey(key); err != nil {
		return Image{}, err
	}
	// A concurrent upload or delete can remove the object between reading the row and reading the
	// object; the row is then newer, so read it again. Only a row that names the same missing object
	// twice is broken.
	missing := ""
	for attempt := 0; ; attempt++ {
		row, err := s.lookupRow(ctx, key)
		if errors.Is(err, database.ErrNotFound) {
			return Image{}, errorf(ErrNotFound, "no image is stored under key %q", key)
		}
		if err != nil {
			return Image{}, s.DBError(fmt.Sprintf("read %q", key), err)
		}
		img, err := s.readObject(ctx, row, dst)
		if errors.Is(err, imagestore.ErrNotFound) && row.Location != missing && attempt < maxReloads {
			missing = row.Location
			continue
		}
		return img, err
	}
}

// readObject reads the object a row names: from the cache when it holds it, else from the store,
// filling the cache under the lease of the miss. Concurrent misses of one object share one load.
func (s *Server) readObject(ctx context.Context, row database.Image, dst []byte) (Image, error) {
	img := Image{Key: row.Key, ContentType: row.ContentType, Size: row.Size}
	// The cached value is the object's base64: its deadline allows for its transfer.
	v, lease, err := s.cache.AppendGet(client.WithExpectedSize(ctx, base64.StdEncoding.EncodedLen(int(row.Size))), dst, row.Location)
	switch {
	case err == nil:
		s.NoteCacheOK()
		s.metrics.reads.WithLabelValues("cache").Inc()
		img.Base64, img.FromCache = v, true
		return img, nil
	case errors.Is(err, wire.ErrMiss):
		s.NoteCacheOK()
	default:
		s.NoteCacheErr(err)
	}
	b64, err, _ := s.loads.Do(row.Location, func() (any, error) {
		// The load serves every waiter, so it must not die with the first caller's request.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return s.load(lctx, row.Location, lease)
	})
	if err != nil {
		return Image{}, err
	}
	s.metrics.reads.WithLabelValues("disk").Inc()
	img.Base64 = append(dst, b64.([]byte)...)
	return img, nil
}

// load reads an object and fills the cache with its base64 when the miss handed out a lease. The lease
// matters for memory only: when the object is replaced after the miss, its invalidation revokes the
// lease and the fill is refused, so the cache does not keep an object that no row names.
func (s *Server) load(ctx context.Context, name string, lease wire.Lease) ([]byte, error) {
	data, err := s.objects.Get(ctx, name)
	if errors.Is(err, imagestore.ErrNotFound) {
		return nil, fmt.Errorf("read object %s: %w", name, err) // Read follows a replaced row
	}
	if err != nil {
		return nil, s.storeError("read object "+name, err)
	}
	b64 := make([]byte, base64.StdEncoding.EncodedLen(len(data)))
	base64.StdEncoding.Encode(b64, data)
	if lease != 0 {
		switch err := s.cache.Fill(ctx, name, b64, lease); {
		case err == nil, errors.Is(err, wire.ErrLeaseRevoked):
		default:
			s.NoteCacheErr(err)
		}
	}
	return b64, nil
}

// Keys lists the stored images, ordered by key.
func (s *Server) Keys(ctx context.Context) ([]database.Image, error) {
	imgs, err := s.store.ListImages(ctx)
	if err != nil {
		return nil, s.DBError("list keys", err)
	}
	return imgs, nil
}

// Delete removes the image stored under key: its row first, after which no read can reach the
// object, then the object from the cache (which holds it under its name, not the key) and from the
// store.
func (s *Server) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	location, err := s.store.DeleteImage(ctx, key)
	if errors.Is(err, database.ErrNotFound) {
		return errorf(ErrNotFound, "no image is stored under key %q", key)
	}
	if err != nil {
		return s.DBError(fmt.Sprintf("delete %q", key), err)
	}
	s.forget(ctx, location)
	return nil
}

// DeleteAll removes every image: rows, then cache entries and objects. Once the rows are gone no
// read can reach the objects, so clearing the cache only frees memory.
func (s *Server) DeleteAll(ctx context.Context) error {
	locations, err := s.store.DeleteAllImages(ctx)
	if err != nil {
		return s.DBError("delete all", err)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterCommit)
	defer cancel()
	if err := s.ClearCache(cctx); err != nil {
		s.NoteCacheErr(err)
	}
	for _, loc := range locations {
		s.removeObject(ctx, loc)
	}
	return nil
}

// NoteDBError counts a database failure that a page works around instead of failing.
func (s *Server) NoteDBError() { s.metrics.dbErrors.Inc() }

// CheckImage checks data as an upload's file (size, type judged by its bytes, dimensions) under c's
// limits and returns its content type.
func (c Config) CheckImage(data []byte) (string, error) {
	c = c.withDefaults()
	if len(data) > c.MaxUpload {
		size, limit := SizesApart(int64(len(data)), int64(c.MaxUpload))
		return "", errorf(ErrTooLarge, "the file is %s; the limit is %s", size, limit)
	}
	info, err := imagestore.Inspect(data)
	switch {
	case errors.Is(err, imagestore.ErrEmpty):
		return "", errorf(ErrInvalid, "the file is empty")
	case err != nil:
		return "", &Error{Kind: ErrUnsupported, Message: "the file is not a PNG, JPEG, GIF or WebP image (judged by its bytes, not its name)", Cause: err}
	case info.Width > c.MaxImageSide || info.Height > c.MaxImageSide:
		return "", errorf(ErrUnprocessable, "the image is %dx%d pixels; the limit is %d pixels a side", info.Width, info.Height, c.MaxImageSide)
	case info.Pixels() > c.MaxImagePixels:
		return "", errorf(ErrUnprocessable, "the image is %dx%d pixels, %.1f megapixels; the limit is %.1f megapixels",
			info.Width, info.Height, float64(info.Pixels())/1e6, float64(c.MaxImagePixels)/1e6)
	}
	return info.ContentType, nil
}
