package runs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"imgcache/app"
	"imgcache/reports/bench"
	"imgcache/reports/results"
)

// MaxFile bounds every file of a run that the server reads or serves. A full run's
// results.json (-repeat 3) is about 400 KB and a graph under 100 KB: 16 MiB leaves room for runs many
// times larger, while no request makes the server read a disk's worth.
const MaxFile = 16 << 20

// Bounds on what a results.json holds. reports/bench's summaries look up each cell's series among all
// of them, so their cost grows as cells times series: a small file of many one-step series of
// distinct mixes could otherwise keep a request busy for minutes. A full run has 9 cells, 27 series
// and about 200 steps.
const (
	maxSeries    = 1000
	maxCells     = 64
	maxSteps     = 100_000
	maxCurveSets = 64   // miss-ratio curves: one set a mix
	maxCurves    = 16   // policies of a set
	maxSizes     = 1000 // points of a curve
)

// errTooBig is a file of a run over MaxFile.
var errTooBig = errors.New("over the size limit")

// ReadBounded reads the regular file name of root, refusing one over MaxFile.
func ReadBounded(root *os.Root, name string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if fi.Size() > MaxFile {
		return nil, fmt.Errorf("%s is %s: %w of %s", name, app.HumanSize(fi.Size()), errTooBig, app.HumanSize(MaxFile))
	}
	// The file may grow after the Stat: read one byte past the limit to see it.
	b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFile {
		return nil, fmt.Errorf("%s is %w of %s", name, errTooBig, app.HumanSize(MaxFile))
	}
	return b, nil
}

// Load reads and decodes the run's results.json. A file that is too large, malformed or of a
// shape the pages cannot summarise is an ErrUnprocessable that says what is wrong with it; a file
// that cannot be read at all is the server's error.
func Load(r Run) (*results.Results, error) {
	root, err := r.Open()
	if err != nil {
		return nil, fmt.Errorf("open run %s: %w", r.Label, err)
	}
	defer root.Close()
	b, err := ReadBounded(root, bench.ResultsJSON)
	if errors.Is(err, errTooBig) {
		return nil, app.Errorf(app.ErrUnprocessable, "The results.json of run %q cannot be read: %v.", r.ID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read results of run %s: %w", r.Label, err)
	}
	res, err := Decode(b)
	if err != nil {
		return nil, app.Errorf(app.ErrUnprocessable, "The results.json of run %q cannot be read: %v.", r.ID, err)
	}
	return res, nil
}

// Decode decodes a results.json (results.Decode checks its version and its mixes) and checks
// that the pages can summarise it. Its errors say where in the file the problem is.
func Decode(b []byte) (*results.Results, error) {
	res, err := results.Decode(b)
	if err != nil {
		return nil, errors.New(decodeProblem(b, err))
	}
	if err := CheckShape(res); err != nil {
		return nil, err
	}
	return res, nil
}

// decodeProblem says what is wrong with a results.json that did not decode, with the line and column
// where JSON's error has an offset. The offset counts the bytes read, the offending one included: the
// position is that byte's.
func decodeProblem(b []byte, err error) string {
	msg := strings.TrimPrefix(err.Error(), "json: ")
	msg = strings.TrimSuffix(msg, ": "+results.ErrBadConfig.Error())
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "it is not valid JSON (" + lineCol(b, syntax.Offset-1) + "): " + msg
	case errors.As(err, &typ):
		return "a value has the wrong type (" + lineCol(b, typ.Offset-1) + "): " + msg
	}
	return msg
}

// lineCol writes a byte offset of b as a line and a column, counted from 1.
func lineCol(b []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(b)))
	before := b[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// CheckShape refuses results larger than the bounds above.
func CheckShape(res *results.Results) error {
	if n := len(res.Series); n > maxSeries {
		return fmt.Errorf("it holds %d series; these pages read at most %d", n, maxSeries)
	}
	cells := map[results.Cell]bool{}
	steps := 0
	for _, s := range res.Series {
		cells[results.Cell{Mix: s.Mix, Policy: s.Policy}] = true
		steps += len(s.Steps)
	}
	if len(cells) > maxCells {
		return fmt.Errorf("it holds %d cells (mix and policy); these pages read at most %d", len(cells), maxCells)
	}
	if steps > maxSteps {
		return fmt.Errorf("it holds %d steps; these pages read at most %d", steps, maxSteps)
	}
	if n := len(res.MRC); n > maxCurveSets {
		return fmt.Errorf("it holds %d sets of miss-ratio curves; these pages read at most %d", n, maxCurveSets)
	}
	for _, m := range res.MRC {
		if len(m.Curves) > maxCurves || len(m.Sizes) > maxSizes {
			return fmt.Errorf("the miss-ratio curves of %s hold %d curves of %d points; these pages read at most %d of %d",
				m.Mix, len(m.Curves), len(m.Sizes), maxCurves, maxSizes)
		}
	}
	return nil
}
