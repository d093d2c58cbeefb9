package loadgentest

import (
	"bytes"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// BrokenConfig says how a Broken proxy misbehaves. The zero value of a field turns its fault off.
type BrokenConfig struct {
	// StaleEvery: one read in StaleEvery is answered with its key's previous image, replayed,
	// as soon as a read comes for a key whose newest upload was acknowledged at least Margin ago,
	// with no upload of it in flight: a read that is stale beyond doubt.
	StaleEvery int
	Margin     time.Duration
	// OtherEvery: every OtherEvery-th read is answered with another key's image.
	OtherEvery int
}

// Broken is a reverse proxy in front of a backend that answers some reads wrongly on purpose, to
// test that loadgen notices. It learns each key's images from the uploads passing through it.
type Broken struct {
	cfg   BrokenConfig
	proxy *httputil.ReverseProxy

	mu        sync.Mutex
	cur, prev map[string][]byte
	acked     map[string]time.Time // when the key's newest upload was acknowledged
	inFlight  map[string]int       // uploads of the key under way
	reads     int
	due       int // replays owed
	stale     int // replayed
	other     int // answered with another key's image
}

// NewBroken returns a proxy to the backend at target.
func NewBroken(target string, cfg BrokenConfig) (*Broken, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	// Keep connections to the backend: the default two idle ones a host make a proxy under load
	// open and close one a request.
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 1024, IdleConnTimeout: 30 * time.Second}
	proxy.ErrorLog = log.New(io.Discard, "", 0) // requests the attack gave up on at its end
	return &Broken{cfg: cfg, proxy: proxy, cur: map[string][]byte{}, prev: map[string][]byte{},
		acked: map[string]time.Time{}, inFlight: map[string]int{}}, nil
}

// Injected returns the reads answered with a stale image and with another key's.
func (b *Broken) Injected() (stale, other int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stale, b.other
}

func (b *Broken) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/api/upload":
		b.upload(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/key/"):
		b.read(w, r, strings.TrimPrefix(r.URL.Path, "/api/key/"))
	default:
		b.proxy.ServeHTTP(w, r)
	}
}

func (b *Broken) upload(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := r.FormValue("key")
	var data []byte
	if f, _, err := r.FormFile("file"); err == nil {
		data, _ = io.ReadAll(f)
		f.Close()
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	b.mu.Lock()
	b.inFlight[key]++
	b.mu.Unlock()
	rec := &statusWriter{ResponseWriter: w}
	b.proxy.ServeHTTP(rec, r)
	b.mu.Lock()
	b.inFlight[key]--
	if rec.code == http.StatusOK {
		b.prev[key], b.cur[key], b.acked[key] = b.cur[key], data, time.Now()
	}
	b.mu.Unlock()
}

// statusWriter notes the status the backend answered.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (b *Broken) read(w http.ResponseWriter, r *http.Request, key string) {
	b.mu.Lock()
	b.reads++
	if b.cfg.StaleEvery > 0 && b.reads%b.cfg.StaleEvery == 0 {
		b.due++
	}
	var answer []byte
	switch {
	case b.cfg.OtherEvery > 0 && b.reads%b.cfg.OtherEvery == 0:
		for k, data := range b.cur {
			if k != key && data != nil {
				answer = data
				b.other++
				break
			}
		}
	case b.due > 0 && b.prev[key] != nil && !bytes.Equal(b.prev[key], b.cur[key]) && b.inFlight[key] == 0 &&
		time.Since(b.acked[key]) >= b.cfg.Margin:
		answer = b.prev[key]
		b.due--
		b.stale++
	}
	b.mu.Unlock()
	if answer == nil {
		b.proxy.ServeHTTP(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"success": "true", "key": key, "content": base64.StdEncoding.EncodeToString(answer)})
}
