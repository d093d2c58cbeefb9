package verify

import (
	"bytes"
	"encoding/base64"
	"io"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Digest identifies an image's bytes: their 64-bit xxhash and their length.
type Digest struct {
	Sum uint64
	Len int64
}

// Sum returns the digest of b.
func Sum(b []byte) Digest { return Digest{Sum: xxhash.Sum64(b), Len: int64(len(b))} }

// strict is the contract's encoding: standard alphabet, padded, no stray bits or line breaks.
var strict = base64.StdEncoding.Strict()

// Sizes of a scanner's buffers: what a read answer costs in memory, however large its image.
const (
	readBuf = 32 << 10
	b64Buf  = 16 << 10 // a multiple of 4: whole base64 quanta are decoded at a time
)

// scanner finds the top-level "content" string of a JSON answer in a stream and hashes its
// base64-decoded bytes as they arrive, holding no more than its fixed buffers.
type scanner struct {
	in  [readBuf]byte
	b64 [b64Buf]byte
	out [b64Buf / 4 * 3]byte
	h   xxhash.Digest

	n      int    // base64 bytes waiting in b64
	total  int64  // decoded bytes hashed
	padded bool   // a decoded quantum had padding: nothing may follow
	bad    bool   // the content is not valid base64, or not a string
	found  bool   // the content string was seen whole
	depth  int    // of objects and arrays
	str    bool   // inside a string (not the content)
	esc    bool   // after a backslash inside a string
	name   []byte // the last top-level string, up to len("content")+1 bytes
	long   bool   // that string was longer than name holds
	colon  bool   // the last top-level string was a key: its value comes next
	inside bool   // inside the content string
}

var scanners = sync.Pool{New: func() any { return new(scanner) }}

// scanContent reads r to its end and returns the digest of the decoded top-level "content" string,
// and false when there is none, it is not a string, or it is not valid base64. It never holds more
// than a fixed-size buffer of r.
func scanContent(r io.Reader) (Digest, bool, error) {
	s := scanners.Get().(*scanner)
	defer scanners.Put(s)
	s.reset()
	for {
		n, err := r.Read(s.in[:])
		if n > 0 && !s.found && !s.bad {
			s.feed(s.in[:n])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Digest{}, false, err
		}
	}
	if !s.found || s.bad {
		return Digest{}, false, nil
	}
	return Digest{Sum: s.h.Sum64(), Len: s.total}, true, nil
}

func (s *scanner) reset() {
	s.h.Reset()
	s.n, s.total, s.depth = 0, 0, 0
	s.padded, s.bad, s.found, s.str, s.esc, s.long, s.colon, s.inside = false, false, false, false, false, false, false, false
	s.name = s.name[:0]
}

// feed scans one chunk of the answer.
func (s *scanner) feed(p []byte) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case s.inside:
			i = s.content(p, i) - 1
			if s.found || s.bad {
				return
			}
		case s.str:
			switch {
			case s.esc:
				s.esc = false
				s.keep('\\') // an escaped name is not "content"
			case c == '\\':
				s.esc = true
			case c == '"':
				s.str = false
			default:
				s.keep(c)
			}
		case c == '"':
			if s.colon && s.depth == 1 && s.isContent() {
				s.inside, s.colon = true, false
				continue
			}
			s.colon = false
			s.str = true
			s.name, s.long = s.name[:0], false
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == ':' && s.depth == 1:
			s.colon = true
		default:
			if s.colon && s.depth == 1 && s.isContent() {
				s.bad = true // "content" is not a string
				return
			}
			s.colon = false
			s.name = s.name[:0]
			switch c {
			case '{', '[':
				s.depth++
			case '}', ']':
				s.depth--
			}
		}
	}
}

// keep records a byte of a top-level string, which may be a key.
func (s *scanner) keep(c byte) {
	if s.depth != 1 {
		return
	}
	if len(s.name) < len("content")+1 {
		s.name = append(s.name, c)
	} else {
		s.long = true
	}
}

func (s *scanner) isContent() bool { return !s.long && string(s.name) == "content" }

// content consumes base64 from p[i:] up to the closing quote and returns where it stopped. It
// copies runs of plain bytes at once: the decoder checks the alphabet.
func (s *scanner) content(p []byte, i int) int {
	for i < len(p) {
		if s.esc {
			s.esc = false
			if p[i] != '/' { // JSON may escape the alphabet's slash; any other escape is not base64
				s.bad = true
				return i + 1
			}
			s.add(p[i : i+1])
			i++
			continue
		}
		end := len(p)
		if q := bytes.IndexByte(p[i:], '"'); q >= 0 {
			end = i + q
		}
		if b := bytes.IndexByte(p[i:end], '\\'); b >= 0 {
			end = i + b
		}
		s.add(p[i:end])
		if s.bad || end == len(p) {
			return end
		}
		if p[end] == '\\' {
			s.esc = true
			i = end + 1
			continue
		}
		s.inside = false // the closing quote
		s.flush()
		s.found = !s.bad
		return end + 1
	}
	return i
}

// add queues base64 bytes, decoding whenever the buffer fills.
func (s *scanner) add(b []byte) {
	for len(b) > 0 && !s.bad {
		if s.padded {
			s.bad = true // data after the padding
			return
		}
		n := copy(s.b64[s.n:], b)
		s.n += n
		b = b[n:]
		if s.n == len(s.b64) {
			s.flush()
		}
	}
}

// flush decodes and hashes the waiting base64.
func (s *scanner) flush() {
	if s.n == 0 {
		return
	}
	n, err := strict.Decode(s.out[:], s.b64[:s.n])
	if err != nil {
		s.bad = true
		return
	}
	s.padded = s.b64[s.n-1] == '='
	s.n = 0
	s.total += int64(n)
	_, _ = s.h.Write(s.out[:n])
}
