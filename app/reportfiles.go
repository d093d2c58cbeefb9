package app

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// runFileTypes are the files of a run that are served, by extension, with the type they are served
// as: what loadgen writes besides vegeta's binary files. Nothing else of the folder is served.
var runFileTypes = map[string]string{
	".png":  "image/png",
	".json": "application/json",
	".csv":  "text/csv; charset=utf-8",
	// Markdown as plain text: browsers download text/markdown, and the summary reads well as it is.
	".md":   "text/plain; charset=utf-8",
	".html": "text/html; charset=utf-8",
}

const (
	// runFileCSP forbids everything to a run's file opened on its own: an image or data, never a
	// document of ours.
	runFileCSP = "default-src 'none'; sandbox"
	// runHTMLCSP lets a run's own report (index.html, compare.html) show its graphs and its inline
	// styles, and nothing else: the sandbox gives it an origin of its own, so even a page written to
	// the folder by someone else can neither run a script nor read the cookies or pages of ours.
	runHTMLCSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; sandbox"
)

// runFile is a file of a run's folder that may be served.
type runFile struct {
	Name        string // as the folder's listing names it
	Size        int64
	Modified    time.Time
	ContentType string
}

// TooLarge reports whether the file is over the bound, and so not served.
func (f runFile) TooLarge() bool { return f.Size > maxReportFile }

// runFiles lists the files of the run's folder that may be served, by name: its own regular files (a
// symlink's type is its own, so none is listed), not hidden, of the allowed types. Sub-folders, such
// as loadgen's vegeta/, are not looked into.
func runFiles(root *os.Root) ([]runFile, error) {
	dir, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	entries, err := dir.ReadDir(maxReportEntries)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var out []runFile
	for _, e := range entries {
		name := e.Name()
		ct, ok := runFileTypes[strings.ToLower(filepath.Ext(name))]
		if !ok || !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed since the listing
		}
		out = append(out, runFile{Name: name, Size: fi.Size(), Modified: fi.ModTime(), ContentType: ct})
	}
	slices.SortFunc(out, func(a, b runFile) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// findRunFile returns the listed file called name: the name a request asks for only selects among
// the listing's, and is never opened itself.
func findRunFile(files []runFile, name string) (runFile, bool) {
	for _, f := range files {
		if f.Name == name {
			return f, true
		}
	}
	return runFile{}, false
}

// openRunFile opens a listed file through the run's root, which refuses any path out of the folder
// (a symlink swapped in since the listing included), and checks it is still a regular file within
// the bound.
func openRunFile(root *os.Root, f runFile) (*os.File, fs.FileInfo, error) {
	file, err := root.Open(f.Name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := file.Stat()
	if err == nil && (!fi.Mode().IsRegular() || fi.Size() > maxReportFile) {
		err = fmt.Errorf("%s: not a regular file within %d bytes", f.Name, maxReportFile)
	}
	if err != nil {
		file.Close()
		return nil, nil, err
	}
	return file, fi, nil
}

// boundedFile is an open file sent as a response body: at most the size it had when opened, then
// closed by fasthttp.
type boundedFile struct {
	io.Reader
	io.Closer
}

// serveRunFile answers one file of run r. Whatever the request's name, only a file the listing of the
// run's folder holds can be answered.
func (s *Server) serveRunFile(rc *fasthttp.RequestCtx, r benchRun, name string) error {
	notFound := errorf(ErrNotFound, "Run %q has no file %q.", r.ID, name)
	root, files, err := r.openFiles()
	if err != nil {
		return err
	}
	defer root.Close()
	f, ok := findRunFile(files, name)
	if !ok {
		return notFound
	}
	if f.TooLarge() {
		return errorf(ErrNotFound, "File %q of run %q is %s, over the %s this server sends.", name, r.ID, humanSize(f.Size), humanSize(maxReportFile))
	}
	file, fi, err := openRunFile(root, f)
	if err != nil {
		s.log.Warn("run file changed since its listing", "run", r.Label, "file", f.Name, "err", err)
		return notFound
	}
	h := &rc.Response.Header
	sum := sha256.Sum256([]byte(f.Name + "\x00" + strconv.FormatInt(fi.Size(), 10) + "\x00" + fi.ModTime().String()))
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h.Set("ETag", etag)
	// A run can be written again under the same name: the browser asks each time, and gets a 304.
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if f.ContentType == runFileTypes[".html"] {
		h.Set("Content-Security-Policy", runHTMLCSP)
	} else {
		h.Set("Content-Security-Policy", runFileCSP)
	}
	rc.SetContentType(f.ContentType)
	if string(rc.Request.Header.Peek("If-None-Match")) == etag {
		file.Close()
		rc.SetStatusCode(fasthttp.StatusNotModified)
		return nil
	}
	rc.SetBodyStream(boundedFile{io.LimitReader(file, fi.Size()), file}, int(fi.Size()))
	return nil
}
