package loadgen

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"imgcache/app/api"
	"imgcache/loadgen/cachetrace"
	"imgcache/loadgen/mrc"
	"imgcache/loadgen/verify"
)

// DefaultVersions is how many different write bodies each key has; writes to a key cycle
// through them, so every upload replaces the image with different bytes.
const DefaultVersions = 2

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
	if strings.HasSuffix(r.URL, api.PathUpload) {
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

// Write-key laws: where writes go.
const (
	WriteKeysSame    = "same"    // writes draw keys by the read law, as today's mixes do
	WriteKeysUniform = "uniform" // writes draw every key of the data set alike
	// WriteKeysNew sends writes to keys that no read asks for (YCSB's inserts): a pool as large
	// as the data set, cycled so that the disk stays bounded. They invalidate nothing a read wants.
	WriteKeysNew = "new"
)

// ParseWriteKeys checks a write-key law; "" means WriteKeysSame.
func ParseWriteKeys(s string) (string, error) {
	switch s {
	case "", WriteKeysSame:
		return WriteKeysSame, nil
	case WriteKeysUniform, WriteKeysNew:
		return s, nil
	}
	return "", fmt.Errorf("write keys %q (want %s, %s or %s): %w", s, WriteKeysSame, WriteKeysUniform, WriteKeysNew, ErrBadConfig)
}

// Workload holds every request body and URL for one data set and its targets, built once before
// any attack so that no request is built while vegeta is timing it. Keys 0 to Keys()-1 are the
// data set's; with new-key writes, as many more follow that only writes use. With several backends
// there is a set of URLs for each, and requests take them in turn.
type Workload struct {
	bases      []string   // the backends' base URLs
	names      []string   // by key index
	readURLs   [][]string // by backend, then key index of the data set
	uploads    [][]Upload // by key index, then version (0 is the initial upload)
	stored     [][]uint32 // what the cache holds for each version's value: its base64 length
	uploadURLs []string   // by backend

	digests [][]verify.Digest // by key index, then version: what a read must return
}

// NewWorkload builds the requests for ds against the backend at baseURL, with versions write
// bodies a key besides the initial one (0 means DefaultVersions), and, when newKeys is set, a
// pool of write-only keys as large as the data set.
func NewWorkload(baseURL string, ds *Dataset, versions int, newKeys bool) (*Workload, error) {
	return NewWorkloadOn([]string{baseURL}, ds, versions, newKeys)
}

// NewWorkloadOn is NewWorkload over several backends sharing one store: the same requests, with a
// URL for each backend.
func NewWorkloadOn(baseURLs []string, ds *Dataset, versions int, newKeys bool) (*Workload, error) {
	if versions == 0 {
		versions = DefaultVersions
	}
	if len(baseURLs) == 0 {
		return nil, fmt.Errorf("no target: %w", ErrBadConfig)
	}
	var bases []string
	for _, b := range baseURLs {
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("target %q is not an http URL: %w", b, ErrBadConfig)
		}
		bases = append(bases, strings.TrimSuffix(b, "/"))
	}
	if versions < 1 || len(ds.Images) == 0 {
		return nil, fmt.Errorf("workload of %d images and %d versions: %w", len(ds.Images), versions, ErrBadConfig)
	}
	n := len(ds.Images)
	total := n
	if newKeys {
		total = 2 * n
	}
	w := &Workload{
		bases:    bases,
		names:    make([]string, total),
		readURLs: make([][]string, len(bases)),
		uploads:  make([][]Upload, total),
		stored:   make([][]uint32, total),
		digests:  make([][]verify.Digest, total),
	}
	for b, base := range bases {
		w.readURLs[b] = make([]string, n)
		w.uploadURLs = append(w.uploadURLs, base+api.PathUpload)
	}
	var err error
	for i := range total {
		im := ds.Images[i%n]
		if i >= n { // a write-only key: another name for the same image
			im.Key = fmt.Sprintf("%sw%04d", ds.Config.KeyPrefix, i-n)
		} else {
			for b, base := range bases {
				w.readURLs[b][i] = base + api.KeyPath(im.Key)
			}
		}
		w.names[i] = im.Key
		w.uploads[i] = make([]Upload, versions+1)
		w.stored[i] = make([]uint32, versions+1)
		w.digests[i] = make([]verify.Digest, versions+1)
		for v := range w.uploads[i] {
			data := im.Version(v)
			if w.uploads[i][v], err = NewUpload(im.Key, im.Format, data); err != nil {
				return nil, fmt.Errorf("upload body of %q: %w", im.Key, err)
			}
			w.stored[i][v] = uint32(base64.StdEncoding.EncodedLen(len(data)))
			w.digests[i][v] = verify.Of(data)
		}
	}
	return w, nil
}

// Keys returns the number of keys of the data set, which UploadAll uploads and reads ask for.
func (w *Workload) Keys() int { return len(w.readURLs[0]) }

// Names returns the names of every key, the write-only ones after the data set's.
func (w *Workload) Names() []string { return w.names }

// BaseURL returns the first backend's URL.
func (w *Workload) BaseURL() string { return w.bases[0] }

// BaseURLs returns every backend's URL, in the order requests take them.
func (w *Workload) BaseURLs() []string { return slices.Clone(w.bases) }

// Initial returns the target that uploads version 0 of key i, through backend i modulo their
// number, so that the data set's upload is spread too.
func (w *Workload) Initial(i int) vegeta.Target {
	up := w.uploads[i][0]
	return vegeta.Target{Method: http.MethodPost, URL: w.uploadURLs[i%len(w.bases)], Body: up.Body, Header: up.Header}
}

// TargeterConfig describes the requests a Targeter draws.
type TargeterConfig struct {
	// ReadFraction is the probability of a read; Reads picks its key. WriteKeys (a WriteKeys
	// constant; "" is WriteKeysSame) says where writes go.
	ReadFraction float64
	Reads        *Popularity
	WriteKeys    string
	// Replay, when set, replaces all three: the requests follow the trace in order, from the
	// start again after its end, its key i being the workload's key i.
	Replay *cachetrace.Trace
	Seed   uint64 // the same seed gives the same sequence of draws
	// Record is how many requests to keep for the miss-ratio curves; 0 keeps none.
	Record int
}

// Targeter draws reads and writes for vegeta. Safe for vegeta's concurrent workers.
type Targeter struct {
	w   *Workload
	cfg TargeterConfig

	mu       sync.Mutex
	rng      *rand.Rand
	pos      int      // next request of the replayed trace
	fresh    int      // write-only keys handed out so far
	next     int      // requests handed out so far: the backend of the next is next modulo their number
	versions []uint32 // writes so far, by key
	rec      *mrc.Recorder

	nReads  atomic.Uint64
	nWrites atomic.Uint64
}

// NewTargeter returns a targeter over w that draws requests as cfg says.
func NewTargeter(w *Workload, cfg TargeterConfig) (*Targeter, error) {
	var err error
	if cfg.WriteKeys, err = ParseWriteKeys(cfg.WriteKeys); err != nil {
		return nil, err
	}
	switch {
	case cfg.Replay != nil:
		for _, r := range cfg.Replay.Requests {
			if int(r.Key) >= w.Keys() || r.Key < 0 {
				return nil, fmt.Errorf("trace key %d of %d images: %w", r.Key, w.Keys(), ErrBadConfig)
			}
		}
		if len(cfg.Replay.Requests) == 0 {
			return nil, fmt.Errorf("empty trace: %w", ErrBadConfig)
		}
	case cfg.ReadFraction < 0 || cfg.ReadFraction > 1:
		return nil, fmt.Errorf("read fraction %g: %w", cfg.ReadFraction, ErrBadConfig)
	case cfg.Reads == nil:
		return nil, fmt.Errorf("no read popularity: %w", ErrBadConfig)
	case cfg.Reads.N() != w.Keys():
		return nil, fmt.Errorf("popularity over %d keys for %d images: %w", cfg.Reads.N(), w.Keys(), ErrBadConfig)
	case cfg.WriteKeys == WriteKeysNew && len(w.names) < 2*w.Keys():
		return nil, fmt.Errorf("new-key writes need a workload with write-only keys: %w", ErrBadConfig)
	}
	t := &Targeter{
		w:        w,
		cfg:      cfg,
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x7a26e7)),
		versions: make([]uint32, len(w.names)),
	}
	if cfg.Record > 0 {
		t.rec = mrc.NewRecorder(cfg.Record)
	}
	return t, nil
}

// draw picks the next request's key and kind; t.mu is held.
func (t *Targeter) draw() (k int, write bool) {
	if tr := t.cfg.Replay; tr != nil {
		r := tr.Requests[t.pos%len(tr.Requests)]
		t.pos++
		return int(r.Key), r.Write
	}
	write = t.rng.Float64() >= t.cfg.ReadFraction
	k = t.cfg.Reads.Index(t.rng.Float64())
	if write {
		switch t.cfg.WriteKeys {
		case WriteKeysUniform:
			k = t.rng.IntN(t.w.Keys())
		case WriteKeysNew:
			k = t.w.Keys() + t.fresh%t.w.Keys()
			t.fresh++
		}
	}
	return k, write
}

// Next fills tgt with the next request; it is a vegeta.Targeter.
func (t *Targeter) Next(tgt *vegeta.Target) error {
	t.mu.Lock()
	k, write := t.draw()
	b := t.next % len(t.w.bases) // round robin: every backend gets as many requests, of each kind alike
	t.next++
	ups := t.w.uploads[k]
	v := 0
	if write {
		t.versions[k]++
	}
	if n := t.versions[k]; n > 0 {
		v = 1 + int(n-1)%(len(ups)-1) // the version the key holds once this request is served
	}
	if t.rec != nil {
		r := mrc.Request{Key: uint32(k), Write: write}
		if !write {
			r.Value = t.w.stored[k][v]
		}
		t.rec.Add(r)
	}
	t.mu.Unlock()

	tgt.Method = http.MethodPost
	if !write {
		t.nReads.Add(1)
		tgt.URL, tgt.Body, tgt.Header = t.w.readURLs[b][k], nil, nil
		return nil
	}
	t.nWrites.Add(1)
	tgt.URL, tgt.Body, tgt.Header = t.w.uploadURLs[b], ups[v].Body, ups[v].Header
	return nil
}

// Targeter returns Next as a vegeta.Targeter.
func (t *Targeter) Targeter() vegeta.Targeter { return t.Next }

// Counts returns the reads and writes handed out so far.
func (t *Targeter) Counts() (reads, writes uint64) { return t.nReads.Load(), t.nWrites.Load() }

// Trace returns the requests handed out so far, in order, as the miss-ratio curves replay them,
// and whether some were left out past the TargeterConfig's Record limit.
func (t *Targeter) Trace() ([]mrc.Request, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rec == nil {
		return nil, false
	}
	return t.rec.Requests(), t.rec.Truncated()
}
