package database

import (
	"fmt"
	"time"
)

// sqliteTimeLayout is how times are stored on SQLite: UTC, fixed width, so
// that text order is time order. The columns' defaults write the same form.
const sqliteTimeLayout = "2006-01-02 15:04:05.000000"

// normTime is t as stored: UTC, microseconds (what both engines keep),
// without a monotonic clock reading.
func normTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// nowOr returns normTime(t), or the current time when t is zero.
func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return normTime(t)
}

// timeArg is t as a query argument of db's dialect.
func (db *DB) timeArg(t time.Time) any {
	t = normTime(t)
	if db.dialect == SQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t // the driver formats it; the session is in UTC
}

// scanTime scans a time column of either dialect into a UTC time.Time.
type scanTime struct{ t *time.Time }

// Scan implements sql.Scanner.
func (s scanTime) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*s.t = v.UTC()
		return nil
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	case nil:
		*s.t = time.Time{}
		return nil
	}
	return fmt.Errorf("scan time: unsupported %T", v)
}

// parse reads the stored text form; rows written by hand with fewer
// fractional digits, or in RFC 3339, are accepted too.
func (s scanTime) parse(v string) error {
	// A layout without fraction still parses one (see time.Parse).
	for _, layout := range []string{"2006-01-02 15:04:05", time.RFC3339Nano} {
		if t, err := time.Parse(layout, v); err == nil {
			*s.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("scan time: cannot parse %q", v)
}
