package simulate

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"

	"imgcache/loadgen/cachetrace"
)

// Trace formats, as -format names them.
const (
	FormatOracleGeneral = "oracleGeneral"
	FormatTwitter       = "twitter"
	FormatCSV           = "csv"
)

// Formats returns the formats Read accepts.
func Formats() []string { return []string{FormatOracleGeneral, FormatTwitter, FormatCSV} }

var (
	// ErrFormat reports a trace that does not follow its format.
	ErrFormat = errors.New("malformed trace")
	// ErrTooBig reports a trace with more requests than a simulation can index.
	ErrTooBig = errors.New("trace too big")
)

// MaxRequests bounds the requests kept from one trace: Belady's MIN indexes them with int32.
const MaxRequests = math.MaxInt32 - 1

// oracleRecord is the size of one oracleGeneral record: uint32 time, uint64 object id, uint32
// size, int64 next access, little-endian.
const oracleRecord = 24

// MaxCSVLine bounds a line of a csv trace.
const MaxCSVLine = 64 << 10

// Request is one request of a trace: a lookup of object ID (a dense index from 0) of Size bytes.
type Request struct {
	ID   uint32
	Size uint32
}

// Trace is a trace read whole, its objects renumbered densely in order of first request.
type Trace struct {
	Requests []Request
	Objects  int // distinct objects requested
	// Read is the number of requests in the file; with sampling, Requests keeps about Rate of them.
	Read int64
	// ReadObjects is the number of distinct objects in the file, sampled or not.
	ReadObjects int64
	Rate        float64 // the SHARDS sampling rate Requests were kept at; 1 keeps all
}

// builder renumbers objects and samples them as a trace is read.
type builder struct {
	t         Trace
	ids       map[uint64]uint32
	all       map[uint64]struct{} // every object seen, to count them when sampling
	threshold uint64              // keep an object whose hash's top bits are under it
}

// sampleBits is the resolution of the sampling rate.
const sampleBits = 24

func newBuilder(rate float64) *builder {
	b := &builder{t: Trace{Rate: rate}, ids: map[uint64]uint32{}, threshold: uint64(rate * (1 << sampleBits))}
	if rate < 1 {
		b.all = map[uint64]struct{}{}
	}
	return b
}

// fmix64 is MurmurHash3's finalizer: object ids are often sequential, and SHARDS needs their
// hashes spread evenly.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// add records a request of object id of size bytes, if its object is in the sample.
func (b *builder) add(id uint64, size uint32) error {
	b.t.Read++
	if b.all != nil {
		if _, ok := b.all[id]; !ok {
			b.all[id] = struct{}{}
		}
		if fmix64(id)>>(64-sampleBits) >= b.threshold {
			return nil
		}
	}
	if len(b.t.Requests) >= MaxRequests {
		return fmt.Errorf("more than %d requests: %w", MaxRequests, ErrTooBig)
	}
	d, ok := b.ids[id]
	if !ok {
		d = uint32(len(b.ids))
		b.ids[id] = d
	}
	b.t.Requests = append(b.t.Requests, Request{ID: d, Size: size})
	return nil
}

func (b *builder) done() (*Trace, error) {
	if b.t.Read == 0 {
		return nil, fmt.Errorf("no requests: %w", ErrFormat)
	}
	b.t.Objects = len(b.ids)
	b.t.ReadObjects = int64(len(b.ids))
	if b.all != nil {
		b.t.ReadObjects = int64(len(b.all))
	}
	return &b.t, nil
}

// hashKey maps a string key to an object id.
func hashKey(k string) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, k)
	return h.Sum64()
}

// Open reads the trace in file in the given format, decompressing a name ending in .zst on the
// fly, and keeps the requests of a share rate of its objects (1 keeps all).
func Open(file, format string, rate float64) (*Trace, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(file, ".zst") {
		d, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		defer d.Close()
		r = d
	}
	t, err := Read(r, format, rate)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return t, nil
}

// FormatOf guesses a file's format from its name: libCacheSim names its binary traces
// *.oracleGeneral*. It returns "" when the name does not tell.
func FormatOf(file string) string {
	if strings.Contains(strings.ToLower(file), "oraclegeneral") {
		return FormatOracleGeneral
	}
	return ""
}

// Read reads a whole trace in the given format from r, keeping the requests of a share rate of
// its objects (1 keeps all), chosen by a hash of the object (SHARDS).
func Read(r io.Reader, format string, rate float64) (*Trace, error) {
	if !(rate > 0 && rate <= 1) {
		return nil, fmt.Errorf("sampling rate %g, want (0, 1]: %w", rate, ErrBadConfig)
	}
	b := newBuilder(rate)
	var err error
	switch format {
	case FormatOracleGeneral:
		err = readOracle(r, b)
	case FormatTwitter:
		err = readTwitter(r, b)
	case FormatCSV:
		err = readCSV(r, b)
	default:
		return nil, fmt.Errorf("format %q, want one of %s: %w", format, strings.Join(Formats(), ", "), ErrBadConfig)
	}
	if err != nil {
		return nil, err
	}
	return b.done()
}

// readOracle reads libCacheSim's oracleGeneral records. The next-access field is not used: MIN
// computes next uses itself, so that it also works on the other formats and on samples.
func readOracle(r io.Reader, b *builder) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var rec [oracleRecord]byte
	for n := int64(0); ; n++ {
		if _, err := io.ReadFull(br, rec[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			if err == io.ErrUnexpectedEOF {
				return fmt.Errorf("record %d: truncated, %d-byte records: %w", n, oracleRecord, ErrFormat)
			}
			return err
		}
		id := binary.LittleEndian.Uint64(rec[4:12])
		size := binary.LittleEndian.Uint32(rec[12:16])
		if err := b.add(id, size); err != nil {
			return fmt.Errorf("record %d: %w", n, err)
		}
	}
}

// readTwitter reads Twitter's cache trace CSV. Every row is a lookup of its key, as libCacheSim
// reads the format, of the key's size plus the value's.
func readTwitter(r io.Reader, b *builder) error {
	rd := cachetrace.NewReader(r)
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := b.add(hashKey(rec.Key), uint32(min(rec.KeySize+rec.ValueSize, math.MaxUint32))); err != nil {
			return err
		}
	}
}

// readCSV reads lines of key[,size]; a missing size is 1. Blank lines are skipped.
func readCSV(r io.Reader, b *builder) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxCSVLine)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		key, sizeText, hasSize := strings.Cut(s, ",")
		key = strings.TrimSpace(key)
		if key == "" {
			return fmt.Errorf("line %d: empty key: %w", line, ErrFormat)
		}
		size := uint64(1)
		if hasSize {
			var err error
			size, err = strconv.ParseUint(strings.TrimSpace(sizeText), 10, 32)
			if err != nil {
				return fmt.Errorf("line %d: size %q is not a number of bytes under 4 GiB: %w", line, sizeText, ErrFormat)
			}
		}
		if err := b.add(hashKey(key), uint32(size)); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("a line over %d bytes: %w", MaxCSVLine, ErrFormat)
		}
		return err
	}
	return nil
}
