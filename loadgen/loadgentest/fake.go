// Package loadgentest provides a fake imgcache backend and memcache that follow the HTTP contract
// closely enough for testing loadgen without the real services.
package loadgentest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config shapes the fake's behaviour. The zero value is a fast, faultless service.
type Config struct {
	// Concurrency, when > 0, lets at most this many API requests be served at once, each taking
	// Delay: a service with a known capacity of Concurrency/Delay requests a second.
	Concurrency int
	Delay       time.Duration
	// FailEvery, when > 0, answers every FailEvery-th API request with a 500.
	FailEvery int
	// MemcacheURL, when set, is a fake memcache in another process that the backend tells of
	// each change of the cache properties, as the real backend asks the real memcache to
	// refresh its configuration.
	MemcacheURL string
}

// Fake is an in-memory backend with a cache in front of it: every key read once is cached while
// the capacity is above zero, and an upload invalidates its key.
type Fake struct {
	cfg Config
	sem chan struct{}

	mu         sync.Mutex
	images     map[string][]byte
	cached     map[string]bool
	capacityMB int
	policy     string
	api        int // API requests so far
	uploads    int
	reads      int
	gets, hits int64
	props      []Props // every cache-properties change, in order
	clears     int
}

// Props is one change of the cache properties.
type Props struct {
	CapacityMB int
	Policy     string
}

// New returns a fake configured by cfg, with a 10 MB LRU cache like a fresh memcache.
func New(cfg Config) *Fake {
	f := &Fake{cfg: cfg, images: map[string][]byte{}, cached: map[string]bool{}, capacityMB: 10, policy: "Least Recently Used"}
	if cfg.Concurrency > 0 {
		f.sem = make(chan struct{}, cfg.Concurrency)
	}
	return f
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"success": "false", "error": map[string]any{"code": code, "message": msg}})
}

// Backend returns the backend's handler.
func (f *Fake) Backend() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]string{"success": "true"})
	})
	mux.HandleFunc("POST /api/upload", f.limited(f.upload))
	mux.HandleFunc("POST /api/key/{key}", f.limited(f.read))
	mux.HandleFunc("POST /cache_properties", f.setProps)
	// The backend's cost counters: an image-store read for each read the cache did not answer, a
	// database query for each API request.
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		fmt.Fprintf(w, "# TYPE imgcache_storage_gets_total counter\nimgcache_storage_gets_total %d\n", int64(f.reads)-f.hits)
		fmt.Fprintf(w, "# TYPE imgcache_db_queries_total counter\nimgcache_db_queries_total{op=\"lookup\"} %d\n", f.api)
	})
	mux.HandleFunc("POST /cache_properties/clear", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.cached = map[string]bool{}
		f.clears++
		f.mu.Unlock()
		http.Redirect(w, r, "/cache_properties", http.StatusSeeOther)
	})
	return mux
}

// Memcache returns the memcache's handler (health and statistics).
func (f *Fake) Memcache() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]string{"success": "true"})
	})
	mux.HandleFunc("POST /fake/props", func(w http.ResponseWriter, r *http.Request) {
		capMB, err := strconv.Atoi(r.PostFormValue("capacity"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.capacityMB, f.policy = capMB, r.PostFormValue("policy")
		f.mu.Unlock()
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		writeJSON(w, 200, map[string]any{
			"success": "true", "items": len(f.cached), "bytes": 0, "capacity": f.capacityMB << 20,
			"capacity_mb": f.capacityMB, "policy": f.policy, "requests": f.gets, "gets": f.gets,
			"hits": f.hits, "misses": f.gets - f.hits,
		})
	})
	return mux
}

// limited applies the configured capacity and failures to an API handler.
func (f *Fake) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.sem != nil {
			f.sem <- struct{}{}
			defer func() { <-f.sem }()
		}
		if f.cfg.Delay > 0 {
			time.Sleep(f.cfg.Delay) // the service time being simulated
		}
		f.mu.Lock()
		f.api++
		n := f.api
		f.mu.Unlock()
		if f.cfg.FailEvery > 0 && n%f.cfg.FailEvery == 0 {
			fail(w, http.StatusInternalServerError, "injected failure")
			return
		}
		h(w, r)
	}
}

func (f *Fake) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	key := r.FormValue("key")
	file, _, err := r.FormFile("file")
	if key == "" || err != nil {
		fail(w, http.StatusBadRequest, "missing key or file")
		return
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil || len(data) == 0 {
		fail(w, http.StatusBadRequest, "empty file")
		return
	}
	f.mu.Lock()
	f.images[key] = data
	delete(f.cached, key)
	f.uploads++
	f.mu.Unlock()
	writeJSON(w, 200, map[string]string{"success": "true", "key": key})
}

func (f *Fake) read(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	f.mu.Lock()
	f.reads++
	data, ok := f.images[key]
	if ok && f.capacityMB > 0 {
		f.gets++
		if f.cached[key] {
			f.hits++
		} else {
			f.cached[key] = true
		}
	}
	f.mu.Unlock()
	if !ok {
		fail(w, http.StatusNotFound, fmt.Sprintf("no image is stored under key %q", key))
		return
	}
	writeJSON(w, 200, map[string]string{"success": "true", "key": key, "content": base64.StdEncoding.EncodeToString(data)})
}

func (f *Fake) setProps(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	capMB, err := strconv.Atoi(r.PostFormValue("capacity"))
	policy := map[string]string{
		"lru": "Least Recently Used", "least recently used": "Least Recently Used",
		"random": "Random Replacement", "rr": "Random Replacement", "random replacement": "Random Replacement",
	}[strings.ToLower(r.PostFormValue("policy"))]
	if err != nil || capMB < 0 || capMB > 2048 || policy == "" {
		http.Error(w, "bad capacity or policy", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.capacityMB, f.policy = capMB, policy
	f.props = append(f.props, Props{capMB, r.PostFormValue("policy")})
	f.mu.Unlock()
	if f.cfg.MemcacheURL != "" {
		resp, err := http.PostForm(f.cfg.MemcacheURL+"/fake/props", url.Values{"capacity": {strconv.Itoa(capMB)}, "policy": {policy}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		resp.Body.Close()
	}
	http.Redirect(w, r, "/cache_properties", http.StatusSeeOther)
}

// Counts is a snapshot of what the fake has served.
type Counts struct {
	API, Uploads, Reads int
	Gets, Hits          int64
	Clears              int
	Props               []Props
	Keys                int
}

// Counts returns what the fake has served so far.
func (f *Fake) Counts() Counts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Counts{API: f.api, Uploads: f.uploads, Reads: f.reads, Gets: f.gets, Hits: f.hits,
		Clears: f.clears, Props: append([]Props(nil), f.props...), Keys: len(f.images)}
}

// Image returns the bytes stored under key.
func (f *Fake) Image(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.images[key]
	return b, ok
}
