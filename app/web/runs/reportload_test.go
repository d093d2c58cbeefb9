package runs

import (
	"encoding/json"
	"strings"
	"testing"

	"imgcache/reports/results"
)

func TestDecodeResultsProblems(t *testing.T) {
	many := func(n int, mixes bool) string {
		r := results.Results{Version: results.Version}
		for i := range n {
			mix := results.Mix{Reads: 1, Writes: 1}
			if mixes {
				mix.Reads = i + 1
			}
			r.Series = append(r.Series, results.Series{Mix: mix, Policy: results.PolicyLRU})
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "it is not valid JSON (line 1, column 1): unexpected end of JSON input"},
		{"not JSON", "<html>", "it is not valid JSON (line 1, column 1): invalid character '<' looking for beginning of value"},
		{"a syntax error on line 3", "{\n\"version\": 2,\n\"series\": [}", "it is not valid JSON (line 3, column 12): invalid character '}' looking for beginning of value"},
		{"a wrong type", "{\"version\": \"two\"}", "a value has the wrong type (line 1, column 17): cannot unmarshal string into Go struct field Results.version of type int"},
		{"an unknown version", `{"version": 3}`, "version 3, want 1 or 2"},
		{"no version", `{}`, "version 0, want 1 or 2"},
		{"a malformed mix", `{"version": 2, "series": [{"mix": "lots"}]}`, `mix "lots" (want reads:writes, e.g. 80:20)`},
		{"too many series", many(maxSeries+1, false), "it holds 1001 series; these pages read at most 1000"},
		{"too many cells", many(maxCells+1, true), "it holds 65 cells (mix and policy); these pages read at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("decodeResults(%.40q) = %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestLineCol(t *testing.T) {
	for _, tt := range []struct {
		in     string
		offset int64
		want   string
	}{
		{"", 0, "line 1, column 1"},
		{"abc", 2, "line 1, column 3"},
		{"a\nbc", 3, "line 2, column 2"},
		{"a\n", 2, "line 2, column 1"},
		{"ab", 99, "line 1, column 3"},
		{"ab", -5, "line 1, column 1"},
	} {
		if got := lineCol([]byte(tt.in), tt.offset); got != tt.want {
			t.Errorf("lineCol(%q, %d) = %q, want %q", tt.in, tt.offset, got, tt.want)
		}
	}
	if got := strings.Count(lineCol([]byte(strings.Repeat("\n", 10)), 10), "11"); got != 1 {
		t.Errorf("ten newlines: %q", lineCol([]byte(strings.Repeat("\n", 10)), 10))
	}
}
