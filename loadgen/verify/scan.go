package verify

import (
	"bytes"
	"encoding/base64"
	"io"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Digest identifies an image by its canonical base64 (standard alphabet, padded), the form the
// API's answers carry: the 64-bit xxhash of that text and its length.
type Digest struct {
	Sum uint64
	Len int64
}

// Of returns the digest that a read answering image must match.
//
// The answer's base64 text is hashed rather than decoded, then hashed: a canonical encoding is one
// to one with the bytes, so the text equals a version's encoding exactly when it strictly decodes
// to that version's bytes, and any other text (other bytes, or not base64 at all) matches no
// version. Decoding costs ten times the hash, over the harness's budget (see BenchmarkRead).
func Of(image []byte) Digest {
	var h xxhash.Digest
	h.Reset()
	enc := base64.NewEncoder(base64.StdEncoding, &h)
	_, _ = enc.Write(image)
	_ = enc.Close()
	return Digest{Sum: h.Sum64(), Len: int64(base64.StdEncoding.EncodedLen(len(image)))}
}

// readBuf is the scanner's buffer: what a read answer costs in memory, however large its image.
const readBuf = 8 << 10

// scanner finds the top-level "content" string of a JSON answer in a stream and hashes its text
// as it arrives, holding no more than its fixed buffer.
type scanner struct {
	in [readBuf]byte
	h  xxhash.Digest

	total  int64  // content bytes hashed
	bad    bool   // the content is not a string, or holds an escape base64 cannot
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

// scanContent reads r to its end and returns the digest of the top-level "content" string, and
// false when there is none, it is not a string, or it holds an escape other than "\/". It never
// holds more than a fixed-size buffer of r.
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
	s.total, s.depth = 0, 0
	s.bad, s.found, s.str, s.esc, s.long, s.colon, s.inside = false, false, false, false, false, false, false
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

// content hashes the string from p[i:] up to the closing quote, in runs, and returns where it
// stopped.
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
		if end == len(p) {
			return end
		}
		if p[end] == '\\' {
			s.esc = true
			i = end + 1
			continue
		}
		s.inside, s.found = false, true // the closing quote
		return end + 1
	}
	return i
}

func (s *scanner) add(b []byte) {
	_, _ = s.h.Write(b)
	s.total += int64(len(b))
}
