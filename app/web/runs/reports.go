// Package runs finds the benchmark runs that the /reports pages show: those under the reports folder (Config.Reports)
// and the committed sample. Everything under those folders is untrusted input, written by whoever
// can write there. So a run is named in URLs by an ID the server chose while listing, a file is
// opened only under a name taken from a listing the server made (never a path from the request),
// every open goes through an os.Root that no symlink or ".." escapes, and every read is bounded.
package runs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"imgcache/app"
	"imgcache/reports/bench"
)

const (
	// sampleFolder is where the repository keeps its committed sample run.
	sampleFolder = "reports/sample"
	// sampleID is the sample's ID in URLs.
	sampleID = "sample"

	// maxReportEntries bounds the entries of the reports folder read on each listing, and maxRuns the
	// runs listed: a folder of a hundred thousand entries must not make every page load crawl.
	maxReportEntries = 1000
	maxRuns          = 100
	// maxRunID bounds an ID, which comes from a folder's name.
	maxRunID = 48
)

// Run is one run found: a folder holding results.json.
type Run struct {
	ID     string // its name in URLs, unique in the listing
	Sample bool   // the committed sample
	Label  string // where it is, as the pages show it
	dir    string // the folder its os.Root is opened on: the reports folder, or the sample's
	sub    string // the run's folder inside dir, as the listing named it; "" when it is dir itself
}

// open returns the run's folder as a root: nothing opened through it can be outside it.
func (r Run) Open() (*os.Root, error) {
	root, err := os.OpenRoot(r.dir)
	if err != nil || r.sub == "" {
		return root, err
	}
	defer root.Close()
	return root.OpenRoot(r.sub)
}

// openFiles opens the run's folder and lists the files the pages may serve from it; the caller
// closes the root.
func (r Run) OpenFiles() (*os.Root, []File, error) {
	root, err := r.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open run %s: %w", r.Label, err)
	}
	files, err := Files(root)
	if err != nil {
		root.Close()
		return nil, nil, fmt.Errorf("list run %s: %w", r.Label, err)
	}
	return root, files, nil
}

// key identifies the run's folder across listings, for the summary cache.
func (r Run) Key() string { return r.dir + "\x00" + r.sub }

// SampleCandidates are the folders where the sample may be, in order: as configured, or
// reports/sample under the working directory and then beside the executable's folder
// (bin/backend of a checkout finds its repository's sample from any working directory).
func SampleCandidates(configured string) []string {
	switch configured {
	case app.NoSample:
		return nil
	case "":
	default:
		return []string{configured}
	}
	c := []string{sampleFolder}
	if exe, err := os.Executable(); err == nil {
		if exe, err := filepath.EvalSymlinks(exe); err == nil {
			c = append(c, filepath.Join(filepath.Dir(filepath.Dir(exe)), sampleFolder))
		}
	}
	return c
}

// holdsResults reports whether the folder name of root holds results.json as a regular file (not a
// symlink: a run's files are the folder's own).
func holdsResults(root *os.Root, name string) bool {
	fi, err := root.Lstat(filepath.Join(name, bench.ResultsJSON))
	return err == nil && fi.Mode().IsRegular()
}

// Listing is what benchRuns found.
type Listing struct {
	Runs []Run // the sample first, then the reports folder's in the order of their names
	// Missing says the reports folder does not exist, which only means there are no runs yet.
	Missing bool
	// Truncated says the folder holds more entries or runs than a listing reads.
	Truncated bool
}

// List lists the runs: the sample (the first of sampleDirs that holds one), the reports folder dir
// itself when it holds results.json (loadgen writes there by default), and each folder in it that
// does. Folders that are symlinks, hidden folders and the sample seen a second time are left out.
func List(dir string, sampleDirs []string) (Listing, error) {
	var l Listing
	ids := map[string]bool{}
	add := func(r Run, name string) {
		r.ID = uniqueRunID(ids, name)
		l.Runs = append(l.Runs, r)
	}
	var sample fs.FileInfo
	for _, sdir := range sampleDirs {
		root, err := os.OpenRoot(sdir)
		if err != nil {
			continue
		}
		ok := holdsResults(root, ".")
		fi, err := root.Stat(".")
		root.Close()
		if ok && err == nil {
			sample = fi
			add(Run{Sample: true, Label: sampleFolder + " (committed with the code)", dir: sdir}, sampleID)
			break
		}
	}
	isSample := func(root *os.Root, name string) bool {
		fi, err := root.Stat(name)
		return sample != nil && err == nil && os.SameFile(fi, sample)
	}

	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		l.Missing = true
		return l, nil
	}
	if err != nil {
		return l, err
	}
	defer root.Close()
	if holdsResults(root, ".") && !isSample(root, ".") {
		abs, err := filepath.Abs(dir)
		if err != nil {
			abs = dir
		}
		add(Run{Label: dir, dir: dir}, filepath.Base(abs))
	}
	f, err := root.Open(".")
	if err != nil {
		return l, err
	}
	defer f.Close()
	// One entry more than is read tells a folder of exactly the bound from a larger one.
	entries, err := f.ReadDir(maxReportEntries + 1)
	if err != nil && !errors.Is(err, io.EOF) { // io.EOF: the folder is empty
		return l, err
	}
	if len(entries) > maxReportEntries {
		l.Truncated, entries = true, entries[:maxReportEntries]
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, e := range entries {
		name := e.Name()
		// The entry's type is the link's own (lstat): a symlinked folder is not a run of this folder.
		if !e.IsDir() || strings.HasPrefix(name, ".") || !holdsResults(root, name) || isSample(root, name) {
			continue
		}
		if len(l.Runs) >= maxRuns {
			l.Truncated = true
			break
		}
		add(Run{Label: filepath.Join(dir, name), dir: dir, sub: name}, name)
	}
	return l, nil
}

// find returns the run with id.
func (l Listing) Find(id string) (Run, bool) {
	for _, r := range l.Runs {
		if r.ID == id {
			return r, true
		}
	}
	return Run{}, false
}

// runID turns a folder's name into an ID for URLs: letters, digits, '.', '_' and '-', other runs of
// characters as one '-', at most maxRunID bytes, never empty nor dots alone.
func runID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range name {
		ok := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= maxRunID {
			break
		}
	}
	id := strings.Trim(b.String(), ".-")
	if id == "" {
		return "run"
	}
	return id
}

// uniqueRunID is runID(name), with a number added when another run of the listing has it.
func uniqueRunID(taken map[string]bool, name string) string {
	base := runID(name)
	id := base
	for n := 2; taken[id]; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	taken[id] = true
	return id
}
