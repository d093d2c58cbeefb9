package database_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"imgcache/database"
)

// naturalLess orders keys as the keys page does: by sort key, ties by the key's bytes.
func naturalLess(a, b string) int {
	if c := bytes.Compare(database.SortKey(a), database.SortKey(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func TestSortKeyOrder(t *testing.T) {
	tests := []struct {
		name string
		want []string // in natural order
	}{
		{"numbers in names", []string{"img1", "img2", "img10", "img11", "img100"}},
		{"leading zeros tie, then byte order", []string{"img007", "img07", "img7", "img8"}},
		{"zero", []string{"a0", "a00", "a1"}},
		{"several runs", []string{"v1.2.9", "v1.2.10", "v1.10.0", "v2.0.0"}},
		{"digit against other bytes", []string{"a b", "a-9", "a/1", "a1", "a10", "a:", "aZ", "aa"}},
		{"prefix first", []string{"img", "img1", "img1a", "img2"}},
		{"case stays", []string{"B2", "B10", "a1", "b1"}},
		{"long numbers", []string{"n99999999999999999999", "n100000000000000000000"}},
		{"non-ASCII", []string{"é1", "é2", "é10", "ü"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(tt.want)
			slices.Reverse(got)
			slices.SortFunc(got, naturalLess)
			if !slices.Equal(got, tt.want) {
				t.Errorf("natural order = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSortKeyLength(t *testing.T) {
	tests := []struct {
		name string
		key  string
	}{
		{"digit between every letter", strings.Repeat("1a", 127) + "1"},
		{"all digits", strings.Repeat("9", database.MaxKeyBytes)},
		{"all zeros", strings.Repeat("0", database.MaxKeyBytes)},
		{"letters", strings.Repeat("x", database.MaxKeyBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := len(database.SortKey(tt.key)); n > database.MaxSortKeyBytes {
				t.Errorf("len(SortKey) = %d, over MaxSortKeyBytes %d", n, database.MaxSortKeyBytes)
			}
		})
	}
}
