package database

import (
	"strings"
	"testing"
	"time"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name, schema string
		want         int
	}{
		{"mysql", mysqlSchema, 7},
		{"sqlite", sqliteSchema, 11},
		{"comment with semicolon", "-- a; b\nCREATE TABLE x (a INT);\n\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitStatements(tt.schema)
			if len(got) != tt.want {
				t.Fatalf("splitStatements(%s) = %d statements, want %d: %q", tt.name, len(got), tt.want, got)
			}
			for _, s := range got {
				if !strings.HasPrefix(s, "CREATE ") {
					t.Errorf("statement %q does not start with CREATE", s)
				}
			}
		})
	}
}

func TestScanTime(t *testing.T) {
	want := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
	tests := []struct {
		name string
		in   any
		want time.Time
	}{
		{"stored text", "2024-02-29 23:59:58.123456", want},
		{"bytes", []byte("2024-02-29 23:59:58.123456"), want},
		{"milliseconds", "2024-02-29 23:59:58.123", want.Truncate(time.Millisecond)},
		{"seconds", "2024-02-29 23:59:58", want.Truncate(time.Second)},
		{"rfc3339 offset", "2024-03-01T00:59:58.123456+01:00", want},
		{"time in zone", want.In(time.FixedZone("X", -7200)), want},
		{"null", nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got time.Time
			if err := (scanTime{&got}).Scan(tt.in); err != nil {
				t.Fatalf("Scan(%v): %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != tt.want.Location() {
				t.Errorf("Scan(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	var got time.Time
	for _, bad := range []any{"yesterday", int64(5)} {
		if err := (scanTime{&got}).Scan(bad); err == nil {
			t.Errorf("Scan(%v) succeeded, want an error", bad)
		}
	}
}

func TestTimeArgSortsAsText(t *testing.T) {
	db := &DB{dialect: SQLite}
	// Text order must be time order, whatever the zone and the digits.
	times := []time.Time{
		time.Date(2029, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2030, 1, 1, 0, 0, 0, 0, time.FixedZone("UTC-1", -3600)),
		time.Date(2030, 1, 1, 1, 0, 0, 1000, time.UTC),
		time.Date(2030, 1, 1, 1, 0, 0, 10000, time.UTC),
		time.Date(2030, 1, 1, 1, 0, 0, 100000000, time.UTC),
	}
	for i := 1; i < len(times); i++ {
		a, b := db.timeArg(times[i-1]).(string), db.timeArg(times[i]).(string)
		if len(a) != len(sqliteTimeLayout) || !(a < b) {
			t.Errorf("timeArg(%v) = %q, timeArg(%v) = %q: want fixed width and ascending", times[i-1], a, times[i], b)
		}
	}
}
