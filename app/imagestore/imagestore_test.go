package imagestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Minimal headers of each type, followed by some body.
var (
	pngData  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR body")
	jpegData = []byte("\xff\xd8\xff\xe0\x00\x10JFIF body")
	gif87    = []byte("GIF87a body")
	gif89    = []byte("GIF89a body")
	webpData = []byte("RIFF\x24\x00\x00\x00WEBPVP8 body")
)

// namePattern is what every name Write returns must match.
var namePattern = regexp.MustCompile(`^[0-9a-f]{32}\.(png|jpg|gif|webp)$`)

// ctx is the context of the tests' store calls.
var ctx = context.Background()

func TestSniff(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    string
		wantErr error
	}{
		{"png", pngData, TypePNG, nil},
		{"png header only", pngData[:8], TypePNG, nil},
		{"png truncated header", pngData[:7], "", ErrNotImage},
		{"jpeg", jpegData, TypeJPEG, nil},
		{"jpeg truncated header", jpegData[:2], "", ErrNotImage},
		{"gif87a", gif87, TypeGIF, nil},
		{"gif89a", gif89, TypeGIF, nil},
		{"gif truncated header", []byte("GIF89"), "", ErrNotImage},
		{"gif unknown version", []byte("GIF88a body"), "", ErrNotImage},
		{"webp", webpData, TypeWebP, nil},
		{"webp truncated header", webpData[:11], "", ErrNotImage},
		{"riff but wave", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), "", ErrNotImage},
		{"text named .png", []byte("this is cat.png, honest"), "", ErrNotImage},
		{"html", []byte("<!doctype html><img src=x.png>"), "", ErrNotImage},
		{"png signature later in file", append([]byte(" "), pngData...), "", ErrNotImage},
		{"one byte", []byte{0x89}, "", ErrNotImage},
		{"empty", []byte{}, "", ErrEmpty},
		{"nil", nil, "", ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.data)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Sniff(%q) = %q, %v; want %q, %v", tt.data, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// openStore opens a Store on a fresh folder.
func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// dirNames lists the names in dir, sorted.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenCreatesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "images")
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	if s.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", s.Dir(), dir)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		t.Fatalf("Stat(%q) = %v, %v; want a folder", dir, fi, err)
	}
	if perm := fi.Mode().Perm(); perm&0o700 != 0o700 {
		t.Errorf("folder mode = %v, want owner rwx", perm)
	}
	// Opening again is fine.
	if _, err := Open(dir); err != nil {
		t.Errorf("second Open(%q): %v", dir, err)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	s := openStore(t)
	tests := []struct {
		name, contentType, ext string
		data                   []byte
	}{
		{"png", TypePNG, ".png", pngData},
		{"jpeg", TypeJPEG, ".jpg", jpegData},
		{"gif", TypeGIF, ".gif", gif89},
		{"webp", TypeWebP, ".webp", webpData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, err := s.Put(ctx, tt.data, tt.contentType)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			if !namePattern.MatchString(name) || filepath.Ext(name) != tt.ext {
				t.Errorf("Write name = %q, want 32 hex digits + %q", name, tt.ext)
			}
			got, err := s.Get(ctx, name)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Errorf("Read(%q) = %q, %v; want %q, nil", name, got, err, tt.data)
			}
			if ct, err := ContentType(name); ct != tt.contentType || err != nil {
				t.Errorf("ContentType(%q) = %q, %v; want %q, nil", name, ct, err, tt.contentType)
			}
			fi, err := os.Stat(filepath.Join(s.Dir(), name))
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm&0o600 != 0o600 || perm&0o022 != 0 {
				t.Errorf("file mode = %v, want rw for the owner, not writable by others", perm)
			}
		})
	}
	// Only the four images are left: no temporary files.
	names := dirNames(t, s.Dir())
	if len(names) != len(tests) {
		t.Errorf("folder holds %q, want just the %d images", names, len(tests))
	}
	for _, n := range names {
		if !namePattern.MatchString(n) {
			t.Errorf("folder holds %q, which is not an image name", n)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	s := openStore(t)
	tests := []struct {
		name        string
		data        []byte
		contentType string
		wantErr     error
	}{
		{"empty", nil, TypePNG, ErrEmpty},
		{"text", []byte("not an image"), TypePNG, ErrNotImage},
		{"text as text", []byte("not an image"), "text/plain", ErrNotImage},
		{"png bytes said to be jpeg", pngData, TypeJPEG, ErrNotImage},
		{"content type with parameters", pngData, "image/png; x=1", ErrNotImage},
		{"path as content type", pngData, "../../png", ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, err := s.Put(ctx, tt.data, tt.contentType)
			if !errors.Is(err, tt.wantErr) || name != "" {
				t.Errorf("Write(%q, %q) = %q, %v; want \"\", %v", tt.data, tt.contentType, name, err, tt.wantErr)
			}
		})
	}
	if names := dirNames(t, s.Dir()); len(names) != 0 {
		t.Errorf("refused writes left %q in the folder", names)
	}
}

func TestNamesNeverFromInput(t *testing.T) {
	s := openStore(t)
	evil := append(slices.Clone(pngData), "../../etc/passwd\x00/x/../cat.png"...)
	seen := map[string]bool{}
	for i := range 50 {
		name, err := s.Put(ctx, evil, TypePNG)
		if err != nil {
			t.Fatalf("Write #%d: %v", i, err)
		}
		if !namePattern.MatchString(name) {
			t.Fatalf("Write #%d name = %q, want only hex and an extension", i, name)
		}
		if seen[name] {
			t.Fatalf("Write #%d repeated name %q", i, name)
		}
		seen[name] = true
	}
	if n := len(dirNames(t, s.Dir())); n != 50 {
		t.Errorf("folder holds %d files, want 50", n)
	}
	if n := len(dirNames(t, filepath.Dir(s.Dir()))); n != 1 {
		t.Errorf("parent folder holds %d entries, want only the image folder", n)
	}
}

func TestBadNamesRejected(t *testing.T) {
	parent := t.TempDir()
	s, err := Open(filepath.Join(parent, "images"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.Put(ctx, pngData, TypePNG)
	if err != nil {
		t.Fatal(err)
	}
	// Files outside the store that traversal would reach.
	outside := filepath.Join(parent, "x")
	if err := os.WriteFile(outside, pngData, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(s.Dir(), "a")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "b"), pngData, 0o644); err != nil {
		t.Fatal(err)
	}
	hex := good[:32]
	names := []string{
		"../x", "/etc/passwd", "a/b", "..", ".", "", "x",
		"../images/" + good, "./" + good, good + "/", "/" + good, s.Dir() + "/" + good,
		good + "\x00", good + ".png", strings.ToUpper(hex) + ".png", hex + ".PNG", hex + ".txt",
		hex, hex[:31] + ".png", hex + "0.png", hex[:31] + "g.png", hex[:31] + "/.png",
		hex + ".png\\..\\x", ".upload-0123456789abcdef",
	}
	for _, name := range names {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			if _, err := s.Get(ctx, name); !errors.Is(err, ErrNotFound) {
				t.Errorf("Read(%q) error = %v, want ErrNotFound", name, err)
			}
			if err := s.Delete(ctx, name); !errors.Is(err, ErrNotFound) {
				t.Errorf("Remove(%q) error = %v, want ErrNotFound", name, err)
			}
			if _, err := ContentType(name); !errors.Is(err, ErrNotFound) {
				t.Errorf("ContentType(%q) error = %v, want ErrNotFound", name, err)
			}
		})
	}
	for _, p := range []string{outside, filepath.Join(sub, "b"), filepath.Join(s.Dir(), good)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s is gone after bad removals: %v", p, err)
		}
	}
}

func TestMissingAndRemove(t *testing.T) {
	s := openStore(t)
	missing := "0123456789abcdef0123456789abcdef.png"
	if _, err := s.Get(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, missing); err != nil {
		t.Errorf("Remove(missing) = %v, want nil", err)
	}
	name, err := s.Put(ctx, gif87, TypeGIF)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, name); err != nil {
		t.Errorf("Remove(%q) = %v", name, err)
	}
	if _, err := s.Get(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read after Remove error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, name); err != nil {
		t.Errorf("second Remove(%q) = %v, want nil", name, err)
	}
}

func TestOpenRemovesLeftoverTempFiles(t *testing.T) {
	dir := t.TempDir()
	keep := []string{
		"0123456789abcdef0123456789abcdef.png", // an image
		"notes.txt",
		"upload-not-ours", // no leading dot
	}
	leftovers := []string{tempPrefix + "0011223344556677", tempPrefix + "x"}
	for _, n := range append(slices.Clone(keep), leftovers...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * tempLife)
	for _, n := range leftovers {
		if err := os.Chtimes(filepath.Join(dir, n), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A young temporary file may be another process's write in progress: it stays.
	inflight := tempPrefix + "writing-now"
	if err := os.WriteFile(filepath.Join(dir, inflight), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	keep = append(keep, inflight)
	// A folder with the temporary prefix is not a file Write made.
	if err := os.Mkdir(filepath.Join(dir, tempPrefix+"dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	keep = append(keep, tempPrefix+"dir")

	if _, err := Open(dir); err != nil {
		t.Fatalf("Open: %v", err)
	}
	got := dirNames(t, dir)
	want := slices.Sorted(slices.Values(keep))
	if !slices.Equal(got, want) {
		t.Errorf("after Open the folder holds %q, want %q", got, want)
	}
}

func TestList(t *testing.T) {
	s := openStore(t)
	var images []string
	for _, d := range [][]byte{pngData, jpegData, gif89, webpData} {
		ct, _ := Sniff(d)
		name, err := s.Put(ctx, d, ct)
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, name)
	}
	for _, n := range []string{"README", "0123456789ABCDEF0123456789ABCDEF.png", "0123456789abcdef0123456789abcdef.png.bak",
		tempPrefix + "inflight"} {
		if err := os.WriteFile(filepath.Join(s.Dir(), n), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(s.Dir(), "fedcba9876543210fedcba9876543210.png"), 0o755); err != nil { // an image name, but a folder
		t.Fatal(err)
	}
	var got []string
	before := time.Now().Add(-time.Minute)
	err := s.List(ctx, func(name string, modified time.Time) error {
		if modified.Before(before) || modified.After(time.Now().Add(time.Minute)) {
			t.Errorf("List: %s modified %v, want about now", name, modified)
		}
		got = append(got, name)
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Sort(got)
	slices.Sort(images)
	if !slices.Equal(got, images) {
		t.Errorf("List = %q, want the images only: %q", got, images)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.List(ctx, func(string, time.Time) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("List with a failing fn = %v after %d calls, want stop after 1", err, n)
	}
}

func TestConcurrentWrites(t *testing.T) {
	s := openStore(t)
	const writers, each = 16, 8
	var mu sync.Mutex
	written := map[string][]byte{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				data := append(slices.Clone(pngData), fmt.Sprintf("writer %d image %d", w, i)...)
				name, err := s.Put(ctx, data, TypePNG)
				if err != nil {
					t.Errorf("Write: %v", err)
					return
				}
				mu.Lock()
				if _, dup := written[name]; dup {
					t.Errorf("name %q handed out twice", name)
				}
				written[name] = data
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(written) != writers*each {
		t.Fatalf("%d images written, want %d", len(written), writers*each)
	}
	for name, want := range written {
		if got, err := s.Get(ctx, name); err != nil || !bytes.Equal(got, want) {
			t.Errorf("Read(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if n := len(dirNames(t, s.Dir())); n != writers*each {
		t.Errorf("folder holds %d files, want %d", n, writers*each)
	}
}

func TestSyncGroup(t *testing.T) {
	var g syncGroup
	var started, finished, inFlight atomic.Int64
	fn := func() error {
		if inFlight.Add(1) != 1 {
			t.Error("two runs in flight at once")
		}
		n := started.Add(1)
		runtime.Gosched() // let other callers arrive while this run is in flight
		finished.Store(n)
		inFlight.Add(-1)
		return nil
	}
	const callers, calls = 16, 50
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range calls {
				before := started.Load()
				if err := g.Do(fn); err != nil {
					t.Errorf("Do: %v", err)
				}
				// Some run that began after the call must have finished.
				if got := finished.Load(); got <= before {
					t.Errorf("Do returned after runs up to #%d finished; #%d had started before the call", got, before)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d calls shared %d runs", callers*calls, started.Load())
	if started.Load() > callers*calls {
		t.Errorf("%d runs for %d calls", started.Load(), callers*calls)
	}

	boom := errors.New("boom")
	if err := g.Do(func() error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Do(failing fn) = %v, want %v", err, boom)
	}
	if err := g.Do(func() error { return nil }); err != nil {
		t.Errorf("Do after a failure = %v, want nil", err)
	}
}

// benchWrites measures s.Write of 50 KB images from 8×GOMAXPROCS goroutines
// and reports writes per second and folder fsyncs per write.
func benchWrites(b *testing.B, mode string) {
	s := openStore(b)
	var dirSyncs atomic.Int64
	var g syncGroup
	direct := func() error { dirSyncs.Add(1); return s.fsyncDir() }
	switch mode {
	case "grouped":
		s.syncDir = func() error { return g.Do(direct) }
	case "per-write":
		s.syncDir = direct
	case "none":
		s.syncDir = func() error { return nil }
	}
	data := make([]byte, 50<<10)
	copy(data, pngData)
	for i := len(pngData); i < len(data); i++ {
		data[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(data)))
	b.SetParallelism(8)
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Put(ctx, data, TypePNG); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed, cpu := time.Since(start), processCPU(b)-cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(dirSyncs.Load())/float64(b.N), "dirsyncs/write")
	// CPU per write depends less on what else runs on the machine than time does.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/write")
}

// processCPU returns the user plus system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWrite compares durable writes with the folder fsync shared between
// concurrent writers (what Store does) and done once per write, and, as a
// floor that is not durable, with no folder fsync at all.
func BenchmarkWrite(b *testing.B) {
	for _, mode := range []string{"grouped", "per-write", "none"} {
		b.Run("dirsync="+mode, func(b *testing.B) { benchWrites(b, mode) })
	}
}

// TestWriteBothWays checks each way of writing a file: unnamed then linked (O_TMPFILE), and the named
// temporary file that is renamed where the file system has no unnamed files. Neither leaves anything
// but the final file behind.
func TestWriteBothWays(t *testing.T) {
	data := []byte("\x89PNG\r\n\x1a\nrest")
	tests := []struct {
		name  string
		write func(dir, final string, data []byte) error
	}{
		{"unnamed", writeUnnamed},
		{"renamed", writeRenamed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			final := filepath.Join(dir, "x.png")
			err := tt.write(dir, final, data)
			if errors.Is(err, errNoTmpfile) {
				t.Skipf("this file system has no O_TMPFILE: %v", err)
			}
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			got, err := os.ReadFile(final)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("read back %q, %v; want %q", got, err, data)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("folder holds %d entries, want only the final file", len(entries))
			}
		})
	}
}

// TestListCrossesChunks: List reads the folder a chunk at a time and still lists every image once.
func TestListCrossesChunks(t *testing.T) {
	s := openStore(t)
	const n = 2*listChunk + 500
	for i := range n {
		name := fmt.Sprintf("%032x.png", i)
		if err := os.WriteFile(filepath.Join(s.Dir(), name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	if err := s.List(ctx, func(name string, _ time.Time) error { seen[name] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("List saw %d images, want %d", len(seen), n)
	}
}
