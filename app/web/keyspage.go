package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/database"
)

// keysPerPage is the keys page's fixed page size: enough to scan, few enough that its thumbnails and
// delete buttons stay light.
const keysPerPage = 50

// maxPageNumber bounds the page parameter before it becomes an offset; any page past the last is
// shown as the last.
const maxPageNumber = 1 << 20

// keyRow is one row of the keys table.
type keyRow struct {
	database.Image
	Thumb string // URL of the image itself, for the thumbnail
}

type keysPage struct {
	chrome
	Query      string // the prefix searched for, as typed
	Keys       []keyRow
	Total      int   // keys matching the query
	TotalBytes int64 // their size
	Page       int
	Pages      int
	First      int // position of the first row shown, from 1
	Last       int
	Prev, Next string // URLs of the neighbouring pages; "" at the ends
	FirstURL   string
	LastURL    string
	LiveOK     bool
	Cached     int
}

// keysFlash are the keys page's messages after a redirect, by the deleted parameter: fixed texts, so
// the URL cannot put words on the page.
var keysFlash = map[string]string{
	"1":   "The image was deleted.",
	"all": "Every image was deleted.",
}

// keysURL is the keys page showing prefix q at page; the first page and an empty query stay out of
// the URL.
func keysURL(q string, page int, extra ...string) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return pathKeys
	}
	return pathKeys + "?" + v.Encode()
}

// parsePage reads a page number: absent is 1; anything but a whole number from 1 is refused.
func parsePage(s string, present bool) (int, error) {
	if !present {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange) || err == nil && n > maxPageNumber:
		return maxPageNumber, nil
	case err != nil || n < 1:
		return 0, errorf(app.ErrInvalid, "The page must be a whole number from 1; %q is not.", app.ShownKey(s))
	}
	return n, nil
}

func (s *Server) pageKeys(ctx context.Context, rc *fasthttp.RequestCtx) error {
	args := rc.QueryArgs()
	q := string(args.Peek("q"))
	page, err := parsePage(string(args.Peek("page")), args.Has("page"))
	if err != nil {
		return err
	}
	found, err := s.findKeys(ctx, q, page)
	if err != nil {
		return err
	}
	pages := max(1, (found.Total+keysPerPage-1)/keysPerPage)
	if page > pages {
		// Past the end, as after deleting the last key of the last page: show the last page.
		page = pages
		if found, err = s.findKeys(ctx, q, page); err != nil {
			return err
		}
	}
	p := &keysPage{chrome: chrome{Title: "Keys", Active: pathKeys, Flash: keysFlash[string(args.Peek("deleted"))]},
		Query: app.ShownKey(q), Total: found.Total, TotalBytes: found.TotalBytes, Page: page, Pages: pages}
	for _, img := range found.Images {
		p.Keys = append(p.Keys, keyRow{Image: img, Thumb: thumbURL(img.Key)})
	}
	if len(p.Keys) > 0 {
		p.First = (page-1)*keysPerPage + 1
		p.Last = p.First + len(p.Keys) - 1
	}
	if page > 1 {
		p.Prev, p.FirstURL = keysURL(q, page-1), keysURL(q, 1)
	}
	if page < pages {
		p.Next, p.LastURL = keysURL(q, page+1), keysURL(q, pages)
	}
	live, ok := s.LiveStats(ctx)
	p.LiveOK, p.Cached = ok, live.Items
	s.render(rc, http.StatusOK, "keys", p)
	return nil
}

// findKeys reads one page of the keys that start with q.
func (s *Server) findKeys(ctx context.Context, q string, page int) (database.ImagePage, error) {
	found, err := s.store.FindImages(ctx, database.ImageQuery{Prefix: q, Offset: (page - 1) * keysPerPage, Limit: keysPerPage})
	if err != nil {
		return found, s.DBError("list keys", err)
	}
	return found, nil
}

// pageDeleteKey asks to confirm the deletion of one key's image (GET), then deletes it (POST, with the
// form token) and goes back to the page of keys the person came from.
func (s *Server) pageDeleteKey(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if !rc.IsPost() {
		args := rc.QueryArgs()
		key := string(args.Peek("key"))
		if err := app.CheckKey(key); err != nil {
			return err
		}
		row, err := s.store.GetImage(ctx, key)
		if errors.Is(err, database.ErrNotFound) {
			return errorf(app.ErrNotFound, "No image is stored under key %q: it may have been deleted already.", app.ShownKey(key))
		}
		if err != nil {
			return s.DBError("read key", err)
		}
		q, page := string(args.Peek("q")), string(args.Peek("page"))
		back, err := parsePage(page, page != "")
		if err != nil {
			back = 1
		}
		s.render(rc, http.StatusOK, "confirm", &confirmPage{
			chrome:   chrome{Title: "Delete an image", Active: pathKeys},
			Question: fmt.Sprintf("Delete the image stored under key %q?", app.ShownKey(key)),
			Detail: fmt.Sprintf("The image (%s, %s) goes from the database, the cache and the disk. This cannot be undone.",
				app.HumanSize(row.Size), row.ContentType),
			Thumb: thumbURL(key), Action: pathDeleteKey, Confirm: "Delete",
			Fields: []formField{{"key", key}, {"q", q}, {"page", page}},
			Cancel: keysURL(q, back),
		})
		return nil
	}
	v, err := formValues(rc, "key", "q", "page", csrfField)
	if err != nil {
		return err
	}
	if err := checkForm(rc, v[csrfField]); err != nil {
		return err
	}
	if err := s.Delete(ctx, v["key"]); err != nil {
		return err
	}
	page, err := parsePage(v["page"], v["page"] != "")
	if err != nil {
		page = 1
	}
	seeOther(rc, keysURL(v["q"], page, "deleted", "1"))
	return nil
}

// pageDeleteAll asks to confirm the deletion of every image (GET), then deletes them (POST, with the
// form token).
func (s *Server) pageDeleteAll(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if !rc.IsPost() {
		n, err := s.store.CountImages(ctx)
		if err != nil {
			return s.DBError("count keys", err)
		}
		s.render(rc, http.StatusOK, "confirm", &confirmPage{
			chrome:   chrome{Title: "Delete every image", Active: pathKeys},
			Question: fmt.Sprintf("Delete all %d %s?", n, plural(n, "image", "images")),
			Detail:   "Every key, its image on disk and every cache entry go. This cannot be undone.",
			Action:   pathDeleteAll, Confirm: "Delete all", Cancel: pathKeys,
		})
		return nil
	}
	v, err := formValues(rc, csrfField)
	if err != nil {
		return err
	}
	if err := checkForm(rc, v[csrfField]); err != nil {
		return err
	}
	if err := s.DeleteAll(ctx); err != nil {
		return err
	}
	seeOther(rc, keysURL("", 1, "deleted", "all"))
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
