// Package imagestore keeps image objects in a folder, written atomically and durably under names the
// server chooses; it also judges which bytes are an image, and names objects for every store.
package imagestore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Errors, returned wrapped with the name or content type concerned.
var (
	// ErrNotFound means no image has that name, or the name is not one the
	// store could have chosen.
	ErrNotFound = errors.New("image not found")
	// ErrEmpty means the data has no bytes.
	ErrEmpty = errors.New("empty image")
	// ErrNotImage means the bytes are not of a supported image type, or do
	// not match the content type given.
	ErrNotImage = errors.New("not a supported image")
)

// Content types Sniff recognises.
const (
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeGIF  = "image/gif"
	TypeWebP = "image/webp"
)

const (
	// nameHexLen is the length of a name's random part: 16 random bytes in hex.
	nameHexLen = 32
	// tempPrefix starts every temporary file. A dot keeps it apart from image
	// names, which start with a hex digit.
	tempPrefix = ".upload-"
)

// Sniff returns the content type of b judged by its magic bytes alone.
func Sniff(b []byte) (contentType string, err error) {
	switch {
	case len(b) == 0:
		return "", ErrEmpty
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG, nil
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return TypeJPEG, nil
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return TypeGIF, nil
	case len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return TypeWebP, nil
	}
	return "", ErrNotImage
}

// extension returns the file extension for a content type Sniff returns.
func extension(contentType string) (string, bool) {
	switch contentType {
	case TypePNG:
		return ".png", true
	case TypeJPEG:
		return ".jpg", true
	case TypeGIF:
		return ".gif", true
	case TypeWebP:
		return ".webp", true
	}
	return "", false
}

// ContentType returns the content type of an image name the store chose,
// or ErrNotFound for any other name.
func ContentType(name string) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("content type of %q: %w", name, ErrNotFound)
	}
	for _, t := range []string{TypePNG, TypeJPEG, TypeGIF, TypeWebP} {
		if ext, _ := extension(t); strings.HasSuffix(name, ext) {
			return t, nil
		}
	}
	return "", fmt.Errorf("content type of %q: %w", name, ErrNotFound) // unreachable: validName checked the extension
}

// NewName returns a new random object name for an image of contentType: 32
// lower-case hex digits (128 random bits, so a name is never chosen twice) and
// the type's extension.
func NewName(contentType string) (string, error) {
	ext, ok := extension(contentType)
	if !ok {
		return "", fmt.Errorf("name an object of type %q: %w", contentType, ErrNotImage)
	}
	return randomHex(nameHexLen/2) + ext, nil
}

// ValidName reports whether name is exactly what NewName produces. Nothing
// else can name an object, so no separator, "..", or absolute path gets through.
func ValidName(name string) bool { return validName(name) }

// validName is ValidName.
func validName(name string) bool {
	if len(name) <= nameHexLen {
		return false
	}
	for _, c := range []byte(name[:nameHexLen]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	switch name[nameHexLen:] {
	case ".png", ".jpg", ".gif", ".webp":
		return true
	}
	return false
}

// randomHex returns n random bytes from crypto/rand in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand aborts the program instead
	return hex.EncodeToString(b)
}

// Store keeps image files in one folder. It is safe for concurrent use,
// including by several Stores on one folder within a process, but only one
// process should Open a folder at a time: Open deletes temporary files it
// takes for leftovers of a crash.
type Store struct {
	dir     string
	syncDir func() error // fsyncs dir; shared by concurrent writers
}

// tempLife is how old a temporary file must be before Open takes it for a leftover of a crash: several
// backends may share one folder, and a younger one may be another process's write in progress.
const tempLife = time.Hour

// Open returns the Store for dir, creating the folder (0o755) if missing and
// removing temporary files that a crash left behind (older than tempLife).
func Open(dir string) (*Store, error) {
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix) || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < tempLife {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("open image store: remove leftover temporary files: %w", err)
	}
	s := &Store{dir: dir}
	var g syncGroup
	s.syncDir = func() error { return g.Do(s.fsyncDir) }
	return s, nil
}

// Dir returns the folder the store keeps its files in.
func (s *Store) Dir() string { return s.dir }

// fsyncDir makes the folder's entries (renames, creations) durable.
func (s *Store) fsyncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// CheckType returns an error wrapping ErrNotImage unless data is an image of
// contentType as Sniff judges it: every store checks what it is given.
func CheckType(data []byte, contentType string) error {
	sniffed, err := Sniff(data)
	if err != nil {
		return err
	}
	if sniffed != contentType {
		return fmt.Errorf("bytes are %s, not %q: %w", sniffed, contentType, ErrNotImage)
	}
	return nil
}

// Put stores data, whose type must be contentType as Sniff judges it, under
// a new random name, and returns the name. The file appears whole or not at
// all, and is durable when Put returns: it is written to an unnamed file
// (or, where the file system has none, a temporary one), fsynced, linked or
// renamed into place, and the folder is fsynced. Local writes do not block
// on ctx.
func (s *Store) Put(_ context.Context, data []byte, contentType string) (name string, err error) {
	if err := CheckType(data, contentType); err != nil {
		return "", fmt.Errorf("write image: %w", err)
	}
	name, err = NewName(contentType)
	if err != nil {
		return "", err
	}

	final := filepath.Join(s.dir, name)
	if err := writeUnnamed(s.dir, final, data); err != nil {
		if !errors.Is(err, errNoTmpfile) {
			return "", fmt.Errorf("write image: %w", err)
		}
		if err := writeRenamed(s.dir, final, data); err != nil {
			return "", fmt.Errorf("write image: %w", err)
		}
	}
	if err := s.syncDir(); err != nil {
		// The link happened but may not survive a crash: undo it rather
		// than hand out a name that is not durable.
		os.Remove(filepath.Join(s.dir, name))
		return "", fmt.Errorf("write image: sync folder: %w", err)
	}
	return name, nil
}

// errNoTmpfile: the file system (or kernel) cannot create unnamed files; use a named temporary file.
var errNoTmpfile = errors.New("O_TMPFILE not supported")

// writeUnnamed writes data to an unnamed file in dir (O_TMPFILE), fsyncs it, and links it in as final.
// The file has no name until it is whole and durable, so a crash leaves nothing behind, and creating it
// does not take the folder's lock: under concurrent uploads on ext4 that lock made named creation cost
// twice as much (measured: 2,400-2,800 against 4,600-5,400 writes/s of 50 KB at 16 writers).
func writeUnnamed(dir, final string, data []byte) error {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
			return errNoTmpfile
		}
		return fmt.Errorf("open unnamed file in %s: %w", dir, err)
	}
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	// Linking through /proc needs no privilege (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH).
	proc := "/proc/self/fd/" + strconv.Itoa(fd)
	if err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, final, unix.AT_SYMLINK_FOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) { // no /proc
			return errNoTmpfile
		}
		return fmt.Errorf("link %s: %w", final, err)
	}
	return nil
}

// writeRenamed is the portable way: a named temporary file, fsynced, then renamed to final.
func writeRenamed(dir, final string, data []byte) (err error) {
	tmp := filepath.Join(dir, tempPrefix+randomHex(8))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp) // best effort; Open cleans up what is left
		}
	}()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

// path returns the file path for a name, or ErrNotFound for a name Write
// could not have returned.
func (s *Store) path(op, name string) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("%s image %q: %w", op, name, ErrNotFound)
	}
	return filepath.Join(s.dir, name), nil
}

// Get returns the bytes of the image called name.
func (s *Store) Get(_ context.Context, name string) ([]byte, error) {
	p, err := s.path("read", name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read image %q: %w", name, ErrNotFound)
	}
	return b, err
}

// Delete removes the image called name; a missing image is not an error.
// The removal is not fsynced: after a crash the file may come back, an
// orphan that wastes space but that no database row names.
func (s *Store) Delete(_ context.Context, name string) error {
	p, err := s.path("remove", name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove image %q: %w", name, err)
	}
	return nil
}

// List calls fn with the name and modification time of every image in the
// folder, that is every regular file named as Put names files, in no set
// order; the temporary files of writes in progress are not listed. It stops
// at fn's first error and returns it.
func (s *Store) List(ctx context.Context, fn func(name string, modified time.Time) error) error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("list images: %w", err)
	}
	defer d.Close()
	for {
		// A chunk at a time: a folder of millions of images is not read into memory at once.
		entries, err := d.ReadDir(listChunk)
		for _, e := range entries {
			if !validName(e.Name()) || !e.Type().IsRegular() {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since it was read
			}
			if err != nil {
				return fmt.Errorf("list images: %w", err)
			}
			if err := fn(e.Name(), info.ModTime()); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list images: %w", err)
		}
	}
}

// listChunk is how many folder entries List reads at a time.
const listChunk = 1000
