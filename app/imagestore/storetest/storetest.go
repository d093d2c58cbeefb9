// Package storetest is the conformance suite that every image object store passes.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"imgcache/app/imagestore"
)

// Store is the image object store under test: app.Objects, restated because app sits above this package.
type Store interface {
	Put(ctx context.Context, data []byte, contentType string) (name string, err error)
	Get(ctx context.Context, name string) ([]byte, error)
	Delete(ctx context.Context, name string) error
	List(ctx context.Context, fn func(name string, modified time.Time) error) error
}

// Subject is one store under test, with a way around it.
type Subject struct {
	Store Store
	// Plant writes data under name straight into what backs the store (a file in the folder, an
	// object in the bucket), past Put and its name rules, as another program could.
	Plant func(t *testing.T, name string, data []byte)
}

// Open returns a new, empty store; Run calls it once per subtest.
type Open func(t *testing.T) Subject

// Images of each type: real signatures with a body that makes them distinct.
func image(contentType string, body string) []byte {
	switch contentType {
	case imagestore.TypePNG:
		return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + body)
	case imagestore.TypeJPEG:
		return []byte("\xff\xd8\xff\xe0\x00\x10JFIF" + body)
	case imagestore.TypeGIF:
		return []byte("GIF89a" + body)
	case imagestore.TypeWebP:
		return []byte("RIFF\x24\x00\x00\x00WEBPVP8 " + body)
	}
	panic("storetest: no sample of " + contentType)
}

var ctx = context.Background()

// slack is how far a store's modification time may stray from the test's clock: S3 keeps seconds.
const slack = 2 * time.Second

// Run runs the suite against the stores open returns.
func Run(t *testing.T, open Open) {
	t.Run("round trip of each type", func(t *testing.T) { roundTrip(t, open(t)) })
	t.Run("names are valid, unique and not from the input", func(t *testing.T) { names(t, open(t)) })
	t.Run("get of a missing or invalid name is not found", func(t *testing.T) { getMissing(t, open(t)) })
	t.Run("delete", func(t *testing.T) { deleteObjects(t, open(t)) })
	t.Run("list lists exactly the objects", func(t *testing.T) { list(t, open(t)) })
	t.Run("bytes that are not the image type are refused", func(t *testing.T) { notImage(t, open(t)) })
	t.Run("concurrent puts", func(t *testing.T) { concurrentPuts(t, open(t)) })
	t.Run("cancelled context", func(t *testing.T) { cancelled(t, open(t)) })
}

// put stores data and fails the test on an error.
func put(t *testing.T, s Store, data []byte, contentType string) string {
	t.Helper()
	name, err := s.Put(ctx, data, contentType)
	if err != nil {
		t.Fatalf("Put(%d bytes, %q): %v", len(data), contentType, err)
	}
	return name
}

// listAll returns the names and times List gives, sorted by name.
func listAll(t *testing.T, s Store) (names []string, times map[string]time.Time) {
	t.Helper()
	times = map[string]time.Time{}
	err := s.List(ctx, func(name string, modified time.Time) error {
		if _, dup := times[name]; dup {
			t.Errorf("List gave %q twice", name)
		}
		names = append(names, name)
		times[name] = modified
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Sort(names)
	return names, times
}

func roundTrip(t *testing.T, sub Subject) {
	big := make([]byte, 3<<20) // past any single read or write buffer
	for i := range big {
		big[i] = byte(rand.Uint32())
	}
	tests := []struct {
		name, contentType string
		data              []byte
	}{
		{"png", imagestore.TypePNG, image(imagestore.TypePNG, " body")},
		{"jpeg", imagestore.TypeJPEG, image(imagestore.TypeJPEG, " body")},
		{"gif", imagestore.TypeGIF, image(imagestore.TypeGIF, " body")},
		{"webp", imagestore.TypeWebP, image(imagestore.TypeWebP, " body")},
		{"3 MiB png", imagestore.TypePNG, image(imagestore.TypePNG, string(big))},
		{"header only", imagestore.TypePNG, image(imagestore.TypePNG, "")[:8]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := put(t, sub.Store, tt.data, tt.contentType)
			if ct, err := imagestore.ContentType(name); err != nil || ct != tt.contentType {
				t.Errorf("ContentType(%q) = %q, %v; want %q: the name carries its type", name, ct, err, tt.contentType)
			}
			got, err := sub.Store.Get(ctx, name)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Errorf("Get(%q) = %d bytes, %v; want the %d bytes put", name, len(got), err, len(tt.data))
			}
		})
	}
}

func names(t *testing.T, sub Subject) {
	// The same bytes, and bytes that look like paths or names, never steer the name.
	sneaky := image(imagestore.TypePNG, "../../etc/passwd\x00/0123456789abcdef0123456789abcdef.png")
	seen := map[string]bool{}
	for i := range 20 {
		data := sneaky
		if i%2 == 1 {
			data = image(imagestore.TypePNG, " same")
		}
		name := put(t, sub.Store, data, imagestore.TypePNG)
		if !imagestore.ValidName(name) {
			t.Errorf("put %d: name %q is not valid", i, name)
		}
		if seen[name] {
			t.Errorf("put %d: name %q given twice", i, name)
		}
		seen[name] = true
	}
	if got, _ := listAll(t, sub.Store); len(got) != len(seen) {
		t.Errorf("List gave %d names, want the %d put", len(got), len(seen))
	}
}

func getMissing(t *testing.T, sub Subject) {
	kept := put(t, sub.Store, image(imagestore.TypePNG, " kept"), imagestore.TypePNG)
	unused, err := imagestore.NewName(imagestore.TypePNG)
	if err != nil {
		t.Fatal(err)
	}
	// Objects under names Put never gives, planted behind the store's back: Get must refuse the
	// names, not look them up.
	planted := []string{"notes.png", "ABCDEF0123456789ABCDEF0123456789.png", kept + ".bak", "sub/" + kept[:len(kept)-4] + ".gif"}
	for _, name := range planted {
		sub.Plant(t, name, image(imagestore.TypePNG, " planted"))
	}
	tests := []struct{ name, objectName string }{
		{"valid name never put", unused},
		{"valid name of another type", kept[:len(kept)-4] + ".jpg"},
		{"empty", ""},
		{"traversal", "../" + kept},
		{"absolute path", "/etc/passwd"},
		{"trailing slash", kept + "/"},
		{"planted: not hex", planted[0]},
		{"planted: upper-case hex", planted[1]},
		{"planted: extra suffix", planted[2]},
		{"planted: in a sub-folder", planted[3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sub.Store.Get(ctx, tt.objectName)
			if !errors.Is(err, imagestore.ErrNotFound) {
				t.Errorf("Get(%q) = %d bytes, %v; want an error wrapping ErrNotFound", tt.objectName, len(got), err)
			}
		})
	}
}

func deleteObjects(t *testing.T, sub Subject) {
	a := put(t, sub.Store, image(imagestore.TypeGIF, " a"), imagestore.TypeGIF)
	b := put(t, sub.Store, image(imagestore.TypeGIF, " b"), imagestore.TypeGIF)
	sub.Plant(t, "notes.gif", image(imagestore.TypeGIF, " planted"))
	t.Run("existing", func(t *testing.T) {
		if err := sub.Store.Delete(ctx, a); err != nil {
			t.Fatalf("Delete(%q): %v", a, err)
		}
		if _, err := sub.Store.Get(ctx, a); !errors.Is(err, imagestore.ErrNotFound) {
			t.Errorf("Get(%q) after Delete = %v, want ErrNotFound", a, err)
		}
	})
	t.Run("missing is fine", func(t *testing.T) {
		unused, _ := imagestore.NewName(imagestore.TypeGIF)
		for _, name := range []string{a, unused} { // deleted already, never put
			if err := sub.Store.Delete(ctx, name); err != nil {
				t.Errorf("Delete(%q) of a missing object = %v, want nil", name, err)
			}
		}
	})
	t.Run("invalid name is refused", func(t *testing.T) {
		for _, name := range []string{"notes.gif", "", "../" + b} {
			if err := sub.Store.Delete(ctx, name); !errors.Is(err, imagestore.ErrNotFound) {
				t.Errorf("Delete(%q) = %v, want an error wrapping ErrNotFound", name, err)
			}
		}
	})
	t.Run("the others stay", func(t *testing.T) {
		if got, err := sub.Store.Get(ctx, b); err != nil || !bytes.Equal(got, image(imagestore.TypeGIF, " b")) {
			t.Errorf("Get(%q) = %q, %v; want it untouched", b, got, err)
		}
		if got, _ := listAll(t, sub.Store); !slices.Equal(got, []string{b}) {
			t.Errorf("List = %q, want [%q]", got, b)
		}
	})
}

func list(t *testing.T, sub Subject) {
	if got, _ := listAll(t, sub.Store); len(got) != 0 {
		t.Fatalf("List of a new store = %q, want nothing", got)
	}
	before := time.Now()
	var want []string
	for i, ct := range []string{imagestore.TypePNG, imagestore.TypeJPEG, imagestore.TypeGIF, imagestore.TypeWebP, imagestore.TypePNG} {
		want = append(want, put(t, sub.Store, image(ct, fmt.Sprint(" ", i)), ct))
	}
	after := time.Now()
	slices.Sort(want)
	// Things another program left that are not objects of the store.
	valid, _ := imagestore.NewName(imagestore.TypePNG)
	for _, name := range []string{"notes.txt", "README", "sub/" + valid, valid + ".tmp"} {
		sub.Plant(t, name, image(imagestore.TypePNG, " planted"))
	}

	got, times := listAll(t, sub.Store)
	if !slices.Equal(got, want) {
		t.Errorf("List = %q\nwant %q", got, want)
	}
	for name, m := range times {
		if m.Before(before.Add(-slack)) || m.After(after.Add(slack)) {
			t.Errorf("List: %q modified %v, want between %v and %v", name, m, before, after)
		}
	}

	t.Run("after a delete", func(t *testing.T) {
		if err := sub.Store.Delete(ctx, want[0]); err != nil {
			t.Fatal(err)
		}
		if got, _ := listAll(t, sub.Store); !slices.Equal(got, want[1:]) {
			t.Errorf("List = %q\nwant %q", got, want[1:])
		}
	})
	t.Run("stops at the callback's error", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := sub.Store.List(ctx, func(string, time.Time) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("List with a failing callback = %v after %d calls, want the callback's error after 1", err, calls)
		}
	})
}

func notImage(t *testing.T, sub Subject) {
	png := image(imagestore.TypePNG, " body")
	tests := []struct {
		name, contentType string
		data              []byte
		want              error
	}{
		{"text", imagestore.TypePNG, []byte("hello, I am text"), imagestore.ErrNotImage},
		{"html", imagestore.TypeGIF, []byte("<!doctype html>"), imagestore.ErrNotImage},
		{"png called jpeg", imagestore.TypeJPEG, png, imagestore.ErrNotImage},
		{"png of an unknown type", "text/plain", png, imagestore.ErrNotImage},
		{"png with no type", "", png, imagestore.ErrNotImage},
		{"empty", imagestore.TypePNG, []byte{}, imagestore.ErrEmpty},
		{"nil", imagestore.TypePNG, nil, imagestore.ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, err := sub.Store.Put(ctx, tt.data, tt.contentType)
			if !errors.Is(err, tt.want) || name != "" {
				t.Errorf("Put(%q, %q) = %q, %v; want no name and an error wrapping %v", tt.data, tt.contentType, name, err, tt.want)
			}
		})
	}
	if got, _ := listAll(t, sub.Store); len(got) != 0 {
		t.Errorf("List after refused puts = %q, want nothing", got)
	}
}

func concurrentPuts(t *testing.T, sub Subject) {
	const writers, each = 16, 8
	type stored struct {
		name string
		data []byte
	}
	results := make(chan stored, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				data := image(imagestore.TypeJPEG, fmt.Sprintf(" writer %d put %d", w, i))
				name, err := sub.Store.Put(ctx, data, imagestore.TypeJPEG)
				if err != nil {
					t.Errorf("writer %d: Put: %v", w, err)
					return
				}
				results <- stored{name, data}
			}
		})
	}
	wg.Wait()
	close(results)
	seen := map[string]bool{}
	for r := range results {
		if seen[r.name] {
			t.Errorf("name %q given twice", r.name)
		}
		seen[r.name] = true
		if got, err := sub.Store.Get(ctx, r.name); err != nil || !bytes.Equal(got, r.data) {
			t.Errorf("Get(%q) = %q, %v; want %q", r.name, got, err, r.data)
		}
	}
	if len(seen) != writers*each {
		t.Errorf("%d puts succeeded, want %d", len(seen), writers*each)
	}
	if got, _ := listAll(t, sub.Store); len(got) != writers*each {
		t.Errorf("List gave %d names, want %d", len(got), writers*each)
	}
}

// fast bounds a call made with a cancelled context.
const fast = 2 * time.Second

func cancelled(t *testing.T, sub Subject) {
	kept := put(t, sub.Store, image(imagestore.TypePNG, " kept"), imagestore.TypePNG)
	done, cancel := context.WithCancel(ctx)
	cancel()
	// A store may finish a call that costs it nothing (a local read) rather than fail it, but any
	// failure must say the context ended, and nothing may wait. List can be long, so it must stop.
	calls := []struct {
		name     string
		call     func() error
		mustFail bool
	}{
		{"Put", func() error {
			_, err := sub.Store.Put(done, image(imagestore.TypePNG, " late"), imagestore.TypePNG)
			return err
		}, false},
		{"Get", func() error { _, err := sub.Store.Get(done, kept); return err }, false},
		{"Delete", func() error { return sub.Store.Delete(done, kept) }, false},
		{"List", func() error { return sub.Store.List(done, func(string, time.Time) error { return nil }) }, true},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err := c.call()
			if took := time.Since(start); took > fast {
				t.Errorf("%s with a cancelled context took %v, want under %v", c.name, took, fast)
			}
			if err != nil && !errors.Is(err, context.Canceled) || err == nil && c.mustFail {
				t.Errorf("%s with a cancelled context = %v, want an error wrapping context.Canceled", c.name, err)
			}
		})
	}
}
