package web

import (
	"errors"
	"testing"

	"imgcache/app"
)

// FuzzParseProperties: the properties form accepts only capacities in range and known policies.
func FuzzParseProperties(f *testing.F) {
	for _, s := range [][2]string{{"10", "LRU"}, {"-1", "LRU"}, {"abc", "FIFO"}, {"99999999999999999999", "RR"},
		{" 7 ", " Random Replacement "}, {"0", "s3-fifo"}, {"1.5", "sieve"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	const max = 2048
	f.Fuzz(func(t *testing.T, capacity, policy string) {
		mb, pol, err := parseProperties(capacity, policy, max)
		if err != nil {
			if !errors.Is(err, app.ErrInvalid) {
				t.Fatalf("error %v is not app.ErrInvalid", err)
			}
			return
		}
		if mb < 0 || mb > max || pol.Name == "" {
			t.Fatalf("accepted %d MB, policy %+v", mb, pol)
		}
	})
}
