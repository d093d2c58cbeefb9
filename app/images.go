package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"imgcache/app/imagestore"
	"imgcache/database"
	"imgcache/memcache/cache"
	"imgcache/memcache/client"
	"imgcache/memcache/envelope"
)

// MaxKeyLen is the longest key in bytes (the images.key column is VARCHAR(255)).
const MaxKeyLen = 255

// Errors the status mapping branches on.
var (
	// ErrNotFound: no image is stored under the key.
	ErrNotFound = errors.New("not found")
	// ErrDatabase: the database failed or is unreachable (503: it is worth retrying).
	ErrDatabase = errors.New("database unavailable")
)

// CheckKey enforces the key rule: 1 to 255 bytes of valid UTF-8 without control characters. Any other
// character is allowed, "/" included; /api/key/<key> takes the key path-escaped.
func CheckKey(key string) error {
	switch {
	case key == "":
		return envelope.Errorf(http.StatusBadRequest, "the key is empty: give 1 to %d bytes", MaxKeyLen)
	case len(key) > MaxKeyLen:
		return envelope.Errorf(http.StatusBadRequest, "the key is %d bytes long; the limit is %d", len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return envelope.Errorf(http.StatusBadRequest, "the key is not valid UTF-8")
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return envelope.Errorf(http.StatusBadRequest, "the key contains the control character %U", r)
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

// dbError counts a database failure and marks it as ErrDatabase, keeping the cause for the log.
func (s *Server) dbError(op string, err error) error {
	s.metrics.dbErrors.Inc()
	return fmt.Errorf("%s: %w: %w", op, ErrDatabase, err)
}

// Upload stores data under key: the file is written durably first, then the row is committed, then the
// cache entry is invalidated, and only then does it return; the replaced file is removed last.
func (s *Server) Upload(ctx context.Context, key string, data []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if len(data) > s.cfg.MaxUpload {
		return envelope.Errorf(http.StatusRequestEntityTooLarge, "the file is %d bytes; the limit is %d", len(data), s.cfg.MaxUpload)
	}
	contentType, err := imagestore.Sniff(data)
	switch {
	case errors.Is(err, imagestore.ErrEmpty):
		return envelope.Errorf(http.StatusBadRequest, "the file is empty")
	case err != nil:
		return envelope.Errorf(http.StatusUnsupportedMediaType, "the file is not a PNG, JPEG, GIF or WebP image (judged by its bytes, not its name)")
	}
	name, err := s.files.Write(data, contentType)
	if err != nil {
		return fmt.Errorf("upload %q: write file: %w", key, err)
	}
	previous, err := s.store.PutImage(ctx, database.Image{
		Key: key, Location: name, Size: int64(len(data)), ContentType: contentType, UpdatedAt: time.Now().UTC(),
	})
	if err != nil {
		// The commit may have happened all the same (a connection lost during COMMIT). If the row may
		// name the new file, keep the file and treat the key as changed; an orphan file costs less
		// than a lost image or a stale cache entry.
		row, rerr := s.store.GetImage(context.WithoutCancel(ctx), key)
		if rerr == nil && row.Location != name || errors.Is(rerr, database.ErrNotFound) {
			if rmErr := s.files.Remove(name); rmErr != nil {
				s.log.Error("cannot remove the file of a failed upload", "file", name, "err", rmErr)
			}
		} else {
			s.flights.Forget(s.flightKey(key))
			s.invalidate(ctx, key)
		}
		return s.dbError(fmt.Sprintf("upload %q", key), err)
	}
	// A read that starts from now on must not join a load that may have read the old file.
	s.flights.Forget(s.flightKey(key))
	s.invalidate(ctx, key)
	if previous != "" && previous != name {
		if err := s.files.Remove(previous); err != nil {
			s.log.Error("cannot remove a replaced image file", "file", previous, "err", err)
		}
	}
	return nil
}

// afterCommit bounds the cache calls that follow a commit. They run detached from the request: a
// shutdown cancels request contexts, and an invalidation skipped after a commit would leave the old
// image in the cache.
const afterCommit = 2 * time.Second

// invalidate drops key from the cache. When that fails the key is marked unsure, and its reads bypass
// the cache until an invalidation succeeds: the cache might still hold the old image.
func (s *Server) invalidate(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterCommit)
	defer cancel()
	if err := s.cache.Invalidate(ctx, key); err != nil {
		s.noteCacheErr(err)
		s.markUnsure(key)
		return
	}
	s.noteCacheOK()
}

// markUnsure records that the cache may hold an old image of key ("" for every key).
func (s *Server) markUnsure(key string) {
	s.unsureMu.Lock()
	defer s.unsureMu.Unlock()
	s.unsureSeq++
	s.unsure[key] = s.unsureSeq
}

// trustCache reports whether the cache may be read for key, retrying a pending invalidation first.
// A successful retry removes only the marks made before it started: an upload whose invalidation fails
// meanwhile keeps its own mark.
func (s *Server) trustCache(ctx context.Context, key string) bool {
	s.unsureMu.Lock()
	mark, one := s.unsure[key]
	_, all := s.unsure[""]
	seq := s.unsureSeq
	s.unsureMu.Unlock()
	if !one && !all {
		return true
	}
	var err error
	if all {
		err = s.cache.Clear(ctx)
	} else {
		err = s.cache.Invalidate(ctx, key)
	}
	if err != nil {
		s.noteCacheErr(err)
		return false
	}
	s.noteCacheOK()
	s.unsureMu.Lock()
	defer s.unsureMu.Unlock()
	if all {
		for k, m := range s.unsure {
			if m <= seq {
				delete(s.unsure, k)
			}
		}
	} else if s.unsure[key] == mark {
		delete(s.unsure, key)
	}
	_, one = s.unsure[key]
	_, all = s.unsure[""]
	return !one && !all
}

// flightKey scopes concurrent loads to the current generation of the image set, which DeleteAll bumps:
// singleflight can forget one key, not all of them.
func (s *Server) flightKey(key string) string {
	return strconv.FormatUint(s.generation.Load(), 10) + "\x00" + key
}

// Read returns the image stored under key, with Image.Base64 set to dst followed by the image's base64
// (so a handler can build its answer around it in one buffer): from the cache when it holds the key,
// else from the database and disk, filling the cache under the lease of the miss. Concurrent misses of
// one key share one load.
func (s *Server) Read(ctx context.Context, key string, dst []byte) (Image, error) {
	if err := CheckKey(key); err != nil {
		return Image{}, err
	}
	var lease cache.Lease
	if s.trustCache(ctx, key) {
		v, l, err := s.cache.AppendGet(ctx, dst, key)
		switch {
		case err == nil:
			s.noteCacheOK()
			s.metrics.reads.WithLabelValues("cache").Inc()
			img := Image{Key: key, Base64: v, FromCache: true}
			img.ContentType, img.Size = describe(v[len(dst):])
			return img, nil
		case errors.Is(err, client.ErrMiss):
			s.noteCacheOK()
			lease = l
		default:
			s.noteCacheErr(err)
		}
	}
	v, err, _ := s.flights.Do(s.flightKey(key), func() (any, error) {
		// The load serves every waiter, so it must not die with the first caller's request.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return s.load(lctx, key, lease)
	})
	if err != nil {
		return Image{}, err
	}
	s.metrics.reads.WithLabelValues("disk").Inc()
	img := v.(Image)
	img.Base64 = append(dst, img.Base64...)
	return img, nil
}

// maxReloads bounds how often a read follows a row whose file was replaced under it.
const maxReloads = 100

// load reads key from the database and disk and fills the cache when it has a lease.
func (s *Server) load(ctx context.Context, key string, lease cache.Lease) (Image, error) {
	// A concurrent upload or delete can remove the file between reading the row and opening it; the
	// row is then newer, so read it again. Only a row that names the same missing file twice is broken.
	missing := ""
	for attempt := 0; ; attempt++ {
		row, err := s.store.GetImage(ctx, key)
		if errors.Is(err, database.ErrNotFound) {
			return Image{}, fmt.Errorf("no image is stored under key %q: %w", key, ErrNotFound)
		}
		if err != nil {
			return Image{}, s.dbError(fmt.Sprintf("read %q", key), err)
		}
		data, err := s.files.Read(row.Location)
		if errors.Is(err, imagestore.ErrNotFound) && row.Location != missing && attempt < maxReloads {
			missing = row.Location
			continue
		}
		if err != nil {
			return Image{}, fmt.Errorf("read %q: file %s: %w", key, row.Location, err)
		}
		b64 := make([]byte, base64.StdEncoding.EncodedLen(len(data)))
		base64.StdEncoding.Encode(b64, data)
		if lease != 0 {
			switch err := s.cache.Fill(ctx, key, b64, lease); {
			case err == nil, errors.Is(err, client.ErrLeaseRevoked):
				// Refused: the key changed after our miss, and the next reader loads the new image.
			default:
				s.noteCacheErr(err)
			}
		}
		return Image{Key: key, Base64: b64, ContentType: row.ContentType, Size: int64(len(data))}, nil
	}
}

// describe tells the type and size of an image from its base64 without decoding all of it.
func describe(b64 []byte) (contentType string, size int64) {
	n := len(b64)
	size = int64(n / 4 * 3)
	if n > 0 && b64[n-1] == '=' {
		size--
		if n > 1 && b64[n-2] == '=' {
			size--
		}
	}
	head := make([]byte, 12)
	m, _ := base64.StdEncoding.Decode(head, b64[:min(16, n)])
	contentType, err := imagestore.Sniff(head[:m])
	if err != nil {
		contentType = "application/octet-stream"
	}
	return contentType, size
}

// Keys lists the stored images, ordered by key.
func (s *Server) Keys(ctx context.Context) ([]database.Image, error) {
	imgs, err := s.store.ListImages(ctx)
	if err != nil {
		return nil, s.dbError("list keys", err)
	}
	return imgs, nil
}

// DeleteAll removes every image: rows, cache entries and files.
func (s *Server) DeleteAll(ctx context.Context) error {
	locations, err := s.store.DeleteAllImages(ctx)
	if err != nil {
		return s.dbError("delete all", err)
	}
	s.generation.Add(1)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterCommit)
	defer cancel()
	if err := s.cache.Clear(cctx); err != nil {
		s.noteCacheErr(err)
		s.markUnsure("")
	}
	for _, loc := range locations {
		if err := s.files.Remove(loc); err != nil {
			s.log.Error("cannot remove an image file", "file", loc, "err", err)
		}
	}
	return nil
}
