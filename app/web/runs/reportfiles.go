package runs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FileTypes are the files of a run that are served, by extension, with the type they are served
// as: what loadgen writes besides vegeta's binary files. Nothing else of the folder is served.
var FileTypes = map[string]string{
	".png":  "image/png",
	".json": "application/json",
	".csv":  "text/csv; charset=utf-8",
	// Markdown as plain text: browsers download text/markdown, and the summary reads well as it is.
	".md":   "text/plain; charset=utf-8",
	".html": "text/html; charset=utf-8",
}

// File is a file of a run's folder that may be served.
type File struct {
	Name        string // as the folder's listing names it
	Size        int64
	Modified    time.Time
	ContentType string
}

// TooLarge reports whether the file is over the bound, and so not served.
func (f File) TooLarge() bool { return f.Size > MaxFile }

// Files lists the files of the run's folder that may be served, by name: its own regular files (a
// symlink's type is its own, so none is listed), not hidden, of the allowed types. Sub-folders, such
// as loadgen's vegeta/, are not looked into.
func Files(root *os.Root) ([]File, error) {
	dir, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	entries, err := dir.ReadDir(maxReportEntries)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var out []File
	for _, e := range entries {
		name := e.Name()
		ct, ok := FileTypes[strings.ToLower(filepath.Ext(name))]
		if !ok || !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed since the listing
		}
		out = append(out, File{Name: name, Size: fi.Size(), Modified: fi.ModTime(), ContentType: ct})
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// FindFile returns the listed file called name: the name a request asks for only selects among
// the listing's, and is never opened itself.
func FindFile(files []File, name string) (File, bool) {
	for _, f := range files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// OpenFile opens a listed file through the run's root, which refuses any path out of the folder
// (a symlink swapped in since the listing included), and checks it is still a regular file within
// the bound.
func OpenFile(root *os.Root, f File) (*os.File, fs.FileInfo, error) {
	file, err := root.Open(f.Name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := file.Stat()
	if err == nil && (!fi.Mode().IsRegular() || fi.Size() > MaxFile) {
		err = fmt.Errorf("%s: not a regular file within %d bytes", f.Name, MaxFile)
	}
	if err != nil {
		file.Close()
		return nil, nil, err
	}
	return file, fi, nil
}
