// Package verify checks every answer of a load test against the versions it uploaded: a read must
// return bytes of its key (else it is wrong) no older than the last upload acknowledged before the
// read was sent (else it is stale).
package verify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"imgcache/reports/results"
)

// Version is one of a key's images, and the upload that stores it.
type Version struct {
	Digest Digest
	// Body and Header are the upload request the workload's targeter sends for this version; the
	// verifier recognises a write by its body (the same slice, not equal bytes).
	Body   []byte
	Header http.Header
}

// Key is what a workload does with one key: the URLs that read it (one a backend), those that
// delete it, and its versions (0 is the one stored when the verifier starts).
type Key struct {
	Name       string
	ReadURLs   []string
	DeleteURLs []string
	Versions   []Version
}

// MaxBody is the most of an answer's body that vegeta must read when verifying (vegeta.MaxBody):
// the verifier's transport replaces each read's body with this short record of its digest.
const MaxBody = recordLen

// MaxBad is how many offending reads a step keeps for the report.
const MaxBad = 5

// headerWrite tags an upload or deletion for the transport: "key.version".
const headerWrite = "X-Loadgen-Write"

// ErrBadKeys reports a description of keys the verifier cannot use.
var ErrBadKeys = errors.New("verify: bad keys")

// Verifier checks a workload's answers. Its Targeter and Transport run in vegeta's workers;
// Observe and EndStep are called by the one goroutine that reads an attack's results.
type Verifier struct {
	keys   []Key
	reads  map[string]int   // read URL's path → key
	dels   map[string]int   // delete URL → key
	bodies map[*byte][2]int // first byte of an upload body → key, version
	tagged [][]http.Header  // by key, version: the upload's header with headerWrite added
	delTag []http.Header    // by key: a deletion's header

	mu      sync.Mutex
	pending map[uint64][2]int // sequence number → key, version of writes sent in this attack

	hist    []history
	pruneAt []int  // by key: the history's length at which to prune it next
	queue   []read // reads not yet decided, from head on
	head    int
	wm      watermark
	step    results.Verification // of the attack so far
}

// New returns a verifier of keys, each holding its version 0 as of now.
func New(keys []Key) (*Verifier, error) {
	v := &Verifier{
		keys: keys, reads: map[string]int{}, dels: map[string]int{}, bodies: map[*byte][2]int{},
		tagged: make([][]http.Header, len(keys)), delTag: make([]http.Header, len(keys)),
		pending: map[uint64][2]int{}, hist: make([]history, len(keys)), pruneAt: make([]int, len(keys)),
	}
	now := time.Now()
	for k, key := range keys {
		if len(key.Versions) == 0 {
			return nil, fmt.Errorf("key %q has no version: %w", key.Name, ErrBadKeys)
		}
		for _, s := range key.ReadURLs {
			u, err := url.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w: %w", key.Name, ErrBadKeys, err)
			}
			v.reads[u.Path] = k // the path, not the URL: no backend's host is needed to know the key
		}
		for _, u := range key.DeleteURLs {
			v.dels[u] = k
		}
		v.delTag[k] = http.Header{headerWrite: {fmt.Sprintf("%d.%d", k, gotAbsent)}}
		v.tagged[k] = make([]http.Header, len(key.Versions))
		for i, ver := range key.Versions {
			if len(ver.Body) > 0 {
				v.bodies[&ver.Body[0]] = [2]int{k, i}
			}
			h := ver.Header.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set(headerWrite, fmt.Sprintf("%d.%d", k, i))
			v.tagged[k][i] = h
		}
		v.hist[k] = history{{version: 0, sent: now, acked: now}}
		v.pruneAt[k] = pruneAt
	}
	return v, nil
}

// Targeter wraps tr so that the transport can tell which version each write stores.
func (v *Verifier) Targeter(tr vegeta.Targeter) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		if err := tr(t); err != nil {
			return err
		}
		if len(t.Body) > 0 {
			if kv, ok := v.bodies[&t.Body[0]]; ok {
				t.Header = v.tagged[kv[0]][kv[1]]
			}
		} else if k, ok := v.dels[t.URL]; ok {
			t.Header = v.delTag[k]
		}
		return nil
	}
}

// Transport wraps rt: it notes the version of each write by vegeta's sequence number, and replaces
// each read's answer with the digest of its content, computed as the body arrives and not kept.
func (v *Verifier) Transport(rt http.RoundTripper) http.RoundTripper {
	return transport{v: v, rt: rt}
}

type transport struct {
	v  *Verifier
	rt http.RoundTripper
}

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if tag := req.Header.Get(headerWrite); tag != "" {
		if seq, err := strconv.ParseUint(req.Header.Get("X-Vegeta-Seq"), 10, 64); err == nil {
			ks, vs, _ := strings.Cut(tag, ".")
			k, err1 := strconv.Atoi(ks)
			ver, err2 := strconv.Atoi(vs)
			if err1 == nil && err2 == nil {
				t.v.mu.Lock()
				t.v.pending[seq] = [2]int{k, ver}
				t.v.mu.Unlock()
			}
		}
	}
	resp, err := t.rt.RoundTrip(req)
	if err != nil || req.Method == http.MethodHead {
		return resp, err
	}
	if k, ok := t.v.reads[req.URL.Path]; ok {
		resp.Body = &readBody{rc: resp.Body, key: k, status: resp.StatusCode}
	}
	return resp, nil
}

// The record a read's body becomes: a magic byte, the outcome, the key, the digest.
const (
	recordLen   = 24
	recordMagic = 0xd1
	outDigest   = 1 // a valid content: the digest follows
	outAbsent   = 2 // 404
	outInvalid  = 3 // 200 without a content string
	outOther    = 4 // any other status: not a verified read
)

type readBody struct {
	rc     io.ReadCloser
	key    int
	status int
	rec    [recordLen]byte
	off    int
	done   bool
}

func (b *readBody) Read(p []byte) (int, error) {
	if !b.done {
		b.done = true
		out := byte(outOther)
		var d Digest
		switch b.status {
		case http.StatusOK:
			var ok bool
			var err error
			if d, ok, err = scanContent(b.rc); err != nil {
				return 0, err
			}
			out = outInvalid
			if ok {
				out = outDigest
			}
		case http.StatusNotFound:
			out = outAbsent
			fallthrough
		default:
			if _, err := io.Copy(io.Discard, b.rc); err != nil {
				return 0, err
			}
		}
		b.rec[0], b.rec[1] = recordMagic, out
		binary.LittleEndian.PutUint32(b.rec[4:], uint32(b.key))
		binary.LittleEndian.PutUint64(b.rec[8:], d.Sum)
		binary.LittleEndian.PutUint64(b.rec[16:], uint64(d.Len))
	}
	n := copy(p, b.rec[b.off:])
	b.off += n
	if b.off == len(b.rec) {
		return n, io.EOF
	}
	return n, nil
}

func (b *readBody) Close() error { return b.rc.Close() }

// Observe takes one result of the attack, as it comes: the warm-up's too, since its writes change
// what later reads may return. Results of a step must all be observed before EndStep.
func (v *Verifier) Observe(r *vegeta.Result) {
	upTo := v.wm.upTo
	v.wm.observe(r.Seq, r.Timestamp)
	done := r.Timestamp.Add(r.Latency)
	v.mu.Lock()
	kv, isWrite := v.pending[r.Seq]
	delete(v.pending, r.Seq)
	v.mu.Unlock()
	switch {
	case isWrite:
		w := write{version: kv[1], sent: r.Timestamp}
		if r.Code >= 200 && r.Code < 300 {
			w.acked = done
		}
		k := kv[0]
		v.hist[k] = append(v.hist[k], w)
		if len(v.hist[k]) >= v.pruneAt[k] {
			if floor := v.floor(); !floor.IsZero() {
				v.hist[k] = v.hist[k].prune(floor).expire(floor.Add(-failedKeep))
			}
			v.pruneAt[k] = 2*len(v.hist[k]) + pruneAt // amortised: a history that cannot shrink is not scanned at every write
		}
	case len(r.Body) == recordLen && r.Body[0] == recordMagic:
		k := int(binary.LittleEndian.Uint32(r.Body[4:]))
		if k >= len(v.keys) {
			return
		}
		got := gotInvalid
		switch r.Body[1] {
		case outOther:
			return
		case outAbsent:
			got = gotAbsent
		case outDigest:
			d := Digest{Sum: binary.LittleEndian.Uint64(r.Body[8:]), Len: int64(binary.LittleEndian.Uint64(r.Body[16:]))}
			got = gotOther
			for i, ver := range v.keys[k].Versions {
				if ver.Digest == d {
					got = i
					break
				}
			}
		}
		v.step.Verified++
		rd := read{key: k, got: got, sent: r.Timestamp, done: done}
		if got == gotOther || got == gotInvalid {
			v.step.Wrong++
			v.bad(rd, "wrong")
			return
		}
		v.queue = append(v.queue, rd)
	}
	if !v.wm.upTo.Equal(upTo) {
		v.judge(false)
	}
}

// judge decides the queued reads that every write which could affect them has been observed for
// (all of them at the end of an attack). Results come roughly in the order they finish, so it
// stops at the first read not yet decidable: a few wait a little longer, none is decided early.
func (v *Verifier) judge(all bool) {
	for ; v.head < len(v.queue); v.head++ {
		rd := v.queue[v.head]
		if !all && rd.done.After(v.wm.upTo) {
			break
		}
		if !v.hist[rd.key].allows(rd.got, rd.sent, rd.done) {
			v.step.Stale++
			v.bad(rd, "stale")
		}
	}
	if v.head > len(v.queue)/2 { // amortised: the queue moves down once it is half decided
		n := copy(v.queue, v.queue[v.head:])
		clear(v.queue[n:])
		v.queue, v.head = v.queue[:n], 0
	}
}

// pruneAt is the length of a key's history past which its dead writes are dropped.
const pruneAt = 8

// floor returns a time before which no read still to be judged was sent; zero when none is known.
func (v *Verifier) floor() time.Time {
	floor := v.wm.upTo
	for _, rd := range v.queue[v.head:] {
		if rd.sent.Before(floor) {
			floor = rd.sent
		}
	}
	return floor
}

// bad notes an offending read for the report.
func (v *Verifier) bad(rd read, kind string) {
	if len(v.step.BadReads) >= MaxBad {
		return
	}
	b := results.BadRead{Kind: kind, Key: v.keys[rd.key].Name, Got: versionName(rd.got), Sent: rd.sent, Done: rd.done}
	if _, at, ok := v.hist[rd.key].overwritten(rd.sent); ok {
		w := v.hist[rd.key][at]
		b.Expected, b.ExpectedSent, b.ExpectedAcked = versionName(w.version), w.sent, w.acked
	}
	v.step.BadReads = append(v.step.BadReads, b)
}

func versionName(v int) string {
	switch v {
	case gotAbsent:
		return "absent (404)"
	case gotOther:
		return "no version of the key (other bytes, or not base64)"
	case gotInvalid:
		return "no content string"
	}
	return "v" + strconv.Itoa(v)
}

// EndStep judges every read left once an attack's results have all been observed, and returns the
// step's counts; the next attack numbers its results from zero again.
func (v *Verifier) EndStep() results.Verification {
	v.judge(true)
	c := v.step
	v.step = results.Verification{}
	v.wm = watermark{}
	v.mu.Lock()
	clear(v.pending)
	v.mu.Unlock()
	return c
}
