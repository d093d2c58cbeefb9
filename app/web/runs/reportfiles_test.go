package runs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestOpenRunFileConfined: a listed file replaced by a symlink out of the run's folder before it is
// opened (a writer racing the server) is not opened: the root refuses the path.
func TestOpenRunFileConfined(t *testing.T) {
	base := t.TempDir()
	run, outside := filepath.Join(base, "reports", "run"), filepath.Join(base, "outside")
	for _, d := range []string{run, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.png"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target string
	}{
		{"an absolute symlink", filepath.Join(outside, "secret.png")},
		{"a relative symlink", "../../outside/secret.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := filepath.Join(run, "graph.png")
			os.Remove(name) // the last subtest's symlink, which WriteFile would follow
			if err := os.WriteFile(name, []byte("\x89PNG"), 0o644); err != nil {
				t.Fatal(err)
			}
			root, err := os.OpenRoot(run)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			files, err := Files(root)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := FindFile(files, "graph.png")
			if !ok {
				t.Fatalf("graph.png not listed: %+v", files)
			}
			if err := os.Remove(name); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tt.target, name); err != nil {
				t.Fatal(err)
			}
			file, _, err := OpenFile(root, f)
			if err == nil {
				file.Close()
				t.Fatalf("openRunFile opened %s, a symlink to %s out of the run's folder", name, tt.target)
			}
		})
	}
}

func TestRunID(t *testing.T) {
	tests := []struct{ name, want string }{
		{"2026-12-01", "2026-12-01"},
		{"out", "out"},
		{"a b/c", "a-b-c"},
		{"..", "run"},
		{".hidden", "hidden"},
		{"", "run"},
		{"ünïcode", "n-code"},
		{"--x--", "x"},
		{"a%2f..%2fb", "a-2f..-2fb"},
		{strings.Repeat("x", 100), strings.Repeat("x", maxRunID)},
	}
	for _, tt := range tests {
		if got := runID(tt.name); got != tt.want {
			t.Errorf("runID(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	taken := map[string]bool{}
	var got []string
	for _, n := range []string{"a", "a", "a b", "a-2"} {
		got = append(got, uniqueRunID(taken, n))
	}
	if want := "a a-2 a-b a-2-2"; strings.Join(got, " ") != want {
		t.Errorf("unique IDs = %q, want %q", got, want)
	}
}

// FuzzRunID: whatever a folder is called, its ID is a safe, non-empty path segment.
func FuzzRunID(f *testing.F) {
	for _, s := range []string{"out", "..", "../etc", "a/b", "\x00", "%2e%2e", strings.Repeat("é", 60), " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		id := runID(name)
		if id == "" || len(id) > maxRunID || !utf8.ValidString(id) || id == "." || id == ".." ||
			strings.HasPrefix(id, ".") || strings.HasPrefix(id, "-") {
			t.Fatalf("runID(%q) = %q", name, id)
		}
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
				t.Fatalf("runID(%q) = %q holds %q", name, id, r)
			}
		}
	})
}
