package bench

import (
	"fmt"
	"time"

	"imgcache/reports/results"
)

// VerifyRow is a cell's count of verified reads over its runs.
type VerifyRow struct {
	Mix    results.Mix
	Policy string
	Runs   int
	results.Verification
}

// VerifyRows sums the verification of each cell's steps, cells in the order of Cells.
func VerifyRows(res *results.Results) []VerifyRow {
	var out []VerifyRow
	for _, c := range res.Cells() {
		r := VerifyRow{Mix: c.Mix, Policy: c.Policy}
		for _, s := range res.Runs(c.Mix, c.Policy) {
			r.Runs++
			for _, st := range s.Steps {
				r.Verified += st.Verified
				r.Wrong += st.Wrong
				r.Stale += st.Stale
			}
		}
		out = append(out, r)
	}
	return out
}

// verifyCheck fails when any read of the run returned bytes of no version of its key, or a version
// older than the newest acknowledged before it was sent.
func verifyCheck(res *results.Results) Check {
	c := Check{Name: "every read verified: 0 wrong, 0 stale", Outcome: Unknown}
	v := res.Verification()
	switch {
	case v.Verified == 0:
		c.Detail = "no read was verified (run with -no-verify, or results of a loadgen without verification)"
	case v.Unverified() == 0:
		c.Outcome = Pass
		c.Detail = fmt.Sprintf("%d reads verified: each returned its key's newest acknowledged version, or one written meanwhile", v.Verified)
	default:
		c.Outcome = Fail
		c.Detail = fmt.Sprintf("of %d reads verified, %d wrong and %d stale", v.Verified, v.Wrong, v.Stale)
		if len(v.BadReads) > 0 {
			c.Detail += "; first: " + BadReadText(v.BadReads[0])
		}
	}
	return c
}

// BadReadText describes an offending read on one line.
func BadReadText(b results.BadRead) string {
	s := fmt.Sprintf("%s read of %q: got %s", b.Kind, b.Key, b.Got)
	if b.Expected != "" {
		s += fmt.Sprintf(", expected %s or newer (its upload sent %s, acknowledged %s)", b.Expected, clock(b.ExpectedSent), clock(b.ExpectedAcked))
	}
	return s + fmt.Sprintf("; read sent %s, answered %s", clock(b.Sent), clock(b.Done))
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("15:04:05.000000")
}
