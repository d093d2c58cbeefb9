package loadgen

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// DefaultVersions is how many different write bodies each key has; writes to a key cycle
// through them, so every upload replaces the image with different bytes.
const DefaultVersions = 2

// Paths of the backend API that the workload uses.
const (
	UploadPath  = "/api/upload"
	ReadPathFmt = "/api/key/"
)

// Op is the kind of a request.
type Op int

// Request kinds.
const (
	OpRead Op = iota
	OpWrite
)

func (o Op) String() string {
	if o == OpWrite {
		return "write"
	}
	return "read"
}

// OpOf classifies a vegeta result by its URL: vegeta results carry no request headers or bodies.
func OpOf(r *vegeta.Result) Op {
	if strings.HasSuffix(r.URL, UploadPath) {
		return OpWrite
	}
	return OpRead
}

// Upload is a ready multipart body for POST /api/upload.
type Upload struct {
	Body   []byte
	Header http.Header // Content-Type with the boundary; shared read-only between requests
}

// NewUpload builds the multipart body that uploads data under key.
func NewUpload(key, format string, data []byte) (Upload, error) {
	var buf bytes.Buffer
	buf.Grow(len(data) + 512)
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("key", key); err != nil {
		return Upload{}, err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="image.%s"`, format))
	h.Set("Content-Type", "image/"+format)
	fw, err := mw.CreatePart(h)
	if err != nil {
		return Upload{}, err
	}
	if _, err := fw.Write(data); err != nil {
		return Upload{}, err
	}
	if err := mw.Close(); err != nil {
		return Upload{}, err
	}
	return Upload{Body: buf.Bytes(), Header: http.Header{"Content-Type": {mw.FormDataContentType()}}}, nil
}

// Workload holds every request body and URL for one data set and target, built once before any
// attack so that no request is built while vegeta is timing it.
type Workload struct {
	base      string
	readURLs  []string   // by key index
	uploads   [][]Upload // by key index, then version (0 is the initial upload)
	uploadURL string
}

// NewWorkload builds the requests for ds against the backend at baseURL, with versions write
// bodies a key besides the initial one (0 means DefaultVersions).
func NewWorkload(baseURL string, ds *Dataset, versions int) (*Workload, error) {
	if versions == 0 {
		versions = DefaultVersions
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q is not an http URL: %w", baseURL, ErrBadConfig)
	}
	if versions < 1 || len(ds.Images) == 0 {
		return nil, fmt.Errorf("workload of %d images and %d versions: %w", len(ds.Images), versions, ErrBadConfig)
	}
	base := strings.TrimSuffix(baseURL, "/")
	w := &Workload{
		base:      base,
		readURLs:  make([]string, len(ds.Images)),
		uploads:   make([][]Upload, len(ds.Images)),
		uploadURL: base + UploadPath,
	}
	for i, im := range ds.Images {
		w.readURLs[i] = base + ReadPathFmt + url.PathEscape(im.Key)
		w.uploads[i] = make([]Upload, versions+1)
		for v := range w.uploads[i] {
			if w.uploads[i][v], err = NewUpload(im.Key, im.Format, im.Version(v)); err != nil {
				return nil, fmt.Errorf("upload body of %q: %w", im.Key, err)
			}
		}
	}
	return w, nil
}

// Keys returns the number of keys.
func (w *Workload) Keys() int { return len(w.readURLs) }

// BaseURL returns the backend URL the requests go to.
func (w *Workload) BaseURL() string { return w.base }

// Initial returns the target that uploads version 0 of key i.
func (w *Workload) Initial(i int) vegeta.Target {
	up := w.uploads[i][0]
	return vegeta.Target{Method: http.MethodPost, URL: w.uploadURL, Body: up.Body, Header: up.Header}
}

// Targeter draws reads and writes for vegeta: a read with probability ReadFraction, else a write;
// the key from a Popularity either way. Safe for vegeta's concurrent workers.
type Targeter struct {
	w     *Workload
	pop   *Popularity
	reads float64

	mu  sync.Mutex
	rng *rand.Rand

	versions []atomic.Uint32 // writes so far, by key
	nReads   atomic.Uint64
	nWrites  atomic.Uint64
}

// NewTargeter returns a targeter over w that reads with probability readFraction and picks
// keys by pop; the same seed gives the same sequence of draws.
func NewTargeter(w *Workload, pop *Popularity, readFraction float64, seed uint64) (*Targeter, error) {
	if readFraction < 0 || readFraction > 1 {
		return nil, fmt.Errorf("read fraction %g: %w", readFraction, ErrBadConfig)
	}
	if pop.N() != w.Keys() {
		return nil, fmt.Errorf("popularity over %d keys for %d images: %w", pop.N(), w.Keys(), ErrBadConfig)
	}
	return &Targeter{
		w:        w,
		pop:      pop,
		reads:    readFraction,
		rng:      rand.New(rand.NewPCG(seed, 0x7a26e7)),
		versions: make([]atomic.Uint32, w.Keys()),
	}, nil
}

// Next fills tgt with the next request; it is a vegeta.Targeter.
func (t *Targeter) Next(tgt *vegeta.Target) error {
	t.mu.Lock()
	read := t.rng.Float64() < t.reads
	k := t.pop.Index(t.rng.Float64())
	t.mu.Unlock()

	tgt.Method = http.MethodPost
	if read {
		t.nReads.Add(1)
		tgt.URL, tgt.Body, tgt.Header = t.w.readURLs[k], nil, nil
		return nil
	}
	t.nWrites.Add(1)
	ups := t.w.uploads[k]
	v := 1 + int(t.versions[k].Add(1)-1)%(len(ups)-1)
	tgt.URL, tgt.Body, tgt.Header = t.w.uploadURL, ups[v].Body, ups[v].Header
	return nil
}

// Targeter returns Next as a vegeta.Targeter.
func (t *Targeter) Targeter() vegeta.Targeter { return t.Next }

// Counts returns the reads and writes handed out so far.
func (t *Targeter) Counts() (reads, writes uint64) { return t.nReads.Load(), t.nWrites.Load() }
