// Package cachetrace reads and writes key-value cache traces in the CSV format of Twitter's
// published cache traces, and makes small synthetic ones.
//
// A row is: timestamp (seconds), anonymized key, key size, value size, client id, operation,
// TTL. Operations are get, gets, set, add, replace, cas, append, prepend, delete, incr, decr.
package cachetrace

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrFormat reports a row that does not follow the format.
var ErrFormat = errors.New("malformed cache trace")

// Limits on what a row may hold, so that a bad or hostile file cannot make loadgen allocate
// without bound: memcached's own key limit, and a value far above any image loadgen makes.
const (
	MaxKeyBytes   = 250
	MaxValueBytes = 1 << 30
)

// Op is a request's operation.
type Op string

// The operations of the format.
const (
	Get     Op = "get"
	Gets    Op = "gets"
	Set     Op = "set"
	Add     Op = "add"
	Replace Op = "replace"
	Cas     Op = "cas"
	Append  Op = "append"
	Prepend Op = "prepend"
	Delete  Op = "delete"
	Incr    Op = "incr"
	Decr    Op = "decr"
)

// IsRead reports whether op reads the value; every other operation changes or removes it.
func (op Op) IsRead() bool { return op == Get || op == Gets }

func parseOp(s string) (Op, bool) {
	switch op := Op(s); op {
	case Get, Gets, Set, Add, Replace, Cas, Append, Prepend, Delete, Incr, Decr:
		return op, true
	}
	return "", false
}

// Record is one row.
type Record struct {
	Time      int64 // seconds from the start of the trace
	Key       string
	KeySize   int
	ValueSize int
	Client    string
	Op        Op
	TTL       int64
}

// Reader reads records from a CSV stream.
type Reader struct {
	csv  *csv.Reader
	line int
}

// NewReader returns a reader of r. A first row whose timestamp is "timestamp" is taken as a
// header and skipped.
func NewReader(r io.Reader) *Reader {
	c := csv.NewReader(bufio.NewReader(r))
	c.FieldsPerRecord = 7
	c.ReuseRecord = true
	return &Reader{csv: c}
}

// Read returns the next record, or io.EOF after the last.
func (r *Reader) Read() (Record, error) {
	for {
		f, err := r.csv.Read()
		r.line++
		if err == io.EOF {
			return Record{}, io.EOF
		}
		if err != nil {
			return Record{}, fmt.Errorf("cache trace: %w: %w", ErrFormat, err)
		}
		if r.line == 1 && strings.TrimSpace(f[0]) == "timestamp" {
			continue
		}
		rec, err := parseRecord(f)
		if err != nil {
			return Record{}, fmt.Errorf("cache trace line %d: %w", r.line, err)
		}
		return rec, nil
	}
}

func parseRecord(f []string) (Record, error) {
	num := func(i int, name string, lo, hi int64) (int64, error) {
		v, err := strconv.ParseInt(strings.TrimSpace(f[i]), 10, 64)
		if err != nil || v < lo || v > hi {
			return 0, fmt.Errorf("%s %q (want a whole number from %d to %d): %w", name, f[i], lo, hi, ErrFormat)
		}
		return v, nil
	}
	var rec Record
	var err error
	if rec.Time, err = num(0, "timestamp", 0, 1<<62); err != nil {
		return Record{}, err
	}
	rec.Key = f[1]
	if rec.Key == "" || len(rec.Key) > MaxKeyBytes {
		return Record{}, fmt.Errorf("key of %d bytes (want 1 to %d): %w", len(rec.Key), MaxKeyBytes, ErrFormat)
	}
	ks, err := num(2, "key size", 0, MaxKeyBytes)
	if err != nil {
		return Record{}, err
	}
	vs, err := num(3, "value size", 0, MaxValueBytes)
	if err != nil {
		return Record{}, err
	}
	rec.KeySize, rec.ValueSize = int(ks), int(vs)
	rec.Client = f[4]
	op, ok := parseOp(strings.ToLower(strings.TrimSpace(f[5])))
	if !ok {
		return Record{}, fmt.Errorf("operation %q: %w", f[5], ErrFormat)
	}
	rec.Op = op
	if rec.TTL, err = num(6, "TTL", 0, 1<<62); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Write writes records as CSV rows, without a header, as the published traces are.
func Write(w io.Writer, recs []Record) error {
	c := csv.NewWriter(w)
	for _, r := range recs {
		row := []string{strconv.FormatInt(r.Time, 10), r.Key, strconv.Itoa(r.KeySize), strconv.Itoa(r.ValueSize),
			r.Client, string(r.Op), strconv.FormatInt(r.TTL, 10)}
		if err := c.Write(row); err != nil {
			return err
		}
	}
	c.Flush()
	return c.Error()
}

// Request is one request of a loaded trace.
type Request struct {
	Key   int32 // index into Trace.Keys
	Write bool  // any operation but get and gets
}

// Trace is a trace ready to replay: keys numbered in order of first appearance, each with the
// value size it is replayed with, and the requests in order.
type Trace struct {
	Keys []string
	// Sizes holds, for each key, the largest value size the trace gives it (a get of a missing
	// value says 0; a key never given a size has 0).
	Sizes    []int
	Requests []Request
	Reads    int
	Writes   int
}

// ErrTooBig reports a trace with more keys or requests than the caller allows.
var ErrTooBig = errors.New("cache trace too big")

// Load reads a whole trace of at most maxKeys distinct keys and maxRequests requests.
func Load(r io.Reader, maxKeys, maxRequests int) (*Trace, error) {
	rd := NewReader(r)
	t := &Trace{}
	ids := map[string]int32{}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		id, ok := ids[rec.Key]
		if !ok {
			if len(t.Keys) >= maxKeys {
				return nil, fmt.Errorf("more than %d distinct keys: %w", maxKeys, ErrTooBig)
			}
			id = int32(len(t.Keys))
			ids[rec.Key] = id
			t.Keys = append(t.Keys, rec.Key)
			t.Sizes = append(t.Sizes, 0)
		}
		if len(t.Requests) >= maxRequests {
			return nil, fmt.Errorf("more than %d requests: %w", maxRequests, ErrTooBig)
		}
		t.Sizes[id] = max(t.Sizes[id], rec.ValueSize)
		w := !rec.Op.IsRead()
		t.Requests = append(t.Requests, Request{Key: id, Write: w})
		if w {
			t.Writes++
		} else {
			t.Reads++
		}
	}
	if len(t.Requests) == 0 {
		return nil, fmt.Errorf("no requests: %w", ErrFormat)
	}
	return t, nil
}
