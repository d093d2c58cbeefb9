package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"strconv"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/app/web/runs"
)

const (
	// runFileCSP forbids everything to a run's file opened on its own: an image or data, never a
	// document of ours.
	runFileCSP = "default-src 'none'; sandbox"
	// runHTMLCSP lets a run's own report (index.html, compare.html) show its graphs and its inline
	// styles, and nothing else: the sandbox gives it an origin of its own, so even a page written to
	// the folder by someone else can neither run a script nor read the cookies or pages of ours.
	runHTMLCSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; sandbox"
)

// runURL is the URL of a run's page; runFileURL that of one of its files.
func runURL(id string) string { return pathReportRun + url.PathEscape(id) }

func runFileURL(id, name string) string { return runURL(id) + "/" + url.PathEscape(name) }

// boundedFile is an open file sent as a response body: at most the size it had when opened, then
// closed by fasthttp.
type boundedFile struct {
	io.Reader
	io.Closer
}

// serveRunFile answers one file of run r. Whatever the request's name, only a file the listing of the
// run's folder holds can be answered.
func (s *Server) serveRunFile(rc *fasthttp.RequestCtx, r runs.Run, name string) error {
	notFound := errorf(app.ErrNotFound, "Run %q has no file %q.", r.ID, name)
	root, files, err := r.OpenFiles()
	if err != nil {
		return err
	}
	defer root.Close()
	f, ok := runs.FindFile(files, name)
	if !ok {
		return notFound
	}
	if f.TooLarge() {
		return errorf(app.ErrNotFound, "File %q of run %q is %s, over the %s this server sends.", name, r.ID, app.HumanSize(f.Size), app.HumanSize(runs.MaxFile))
	}
	file, fi, err := runs.OpenFile(root, f)
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
	if f.ContentType == runs.FileTypes[".html"] {
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
