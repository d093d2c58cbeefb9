package bench

import (
	"strings"
	"testing"
	"time"

	"imgcache/reports/results"
)

func TestVerifyCheck(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	bad := results.BadRead{Kind: "stale", Key: "lg-0001", Expected: "v2", ExpectedSent: t0, ExpectedAcked: t0.Add(time.Millisecond),
		Got: "v1", Sent: t0.Add(2 * time.Millisecond), Done: t0.Add(3 * time.Millisecond)}
	mix := results.Mix{Reads: 80, Writes: 20}
	run := func(v ...results.Verification) *results.Results {
		res := &results.Results{}
		for i, x := range v {
			res.Series = append(res.Series, results.Series{Mix: mix, Policy: results.PolicyLRU, Repeat: i,
				Steps: []results.Step{{Verification: x}, {Verification: results.Verification{Verified: 1}}}})
		}
		return res
	}
	for _, tc := range []struct {
		name    string
		res     *results.Results
		outcome string
		detail  string
		row     VerifyRow
	}{
		{"none verified", &results.Results{Series: []results.Series{{Mix: mix, Policy: results.PolicyLRU, Steps: []results.Step{{}}}}},
			Unknown, "no read was verified", VerifyRow{Runs: 1}},
		{"clean", run(results.Verification{Verified: 100}, results.Verification{Verified: 50}), Pass, "152 reads verified",
			VerifyRow{Runs: 2, Verification: results.Verification{Verified: 152}}},
		{"stale", run(results.Verification{Verified: 100}, results.Verification{Verified: 50, Stale: 2, BadReads: []results.BadRead{bad}}), Fail,
			`of 152 reads verified, 0 wrong and 2 stale; first: stale read of "lg-0001": got v1, expected v2 or newer (its upload sent 03:04:05.000000, acknowledged 03:04:05.001000); read sent 03:04:05.002000, answered 03:04:05.003000`,
			VerifyRow{Runs: 2, Verification: results.Verification{Verified: 152, Stale: 2}}},
		{"wrong", run(results.Verification{Verified: 10, Wrong: 1}), Fail, "1 wrong and 0 stale",
			VerifyRow{Runs: 1, Verification: results.Verification{Verified: 11, Wrong: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := verifyCheck(tc.res)
			if c.Outcome != tc.outcome || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("got %s %q, want %s containing %q", c.Outcome, c.Detail, tc.outcome, tc.detail)
			}
			rows := VerifyRows(tc.res)
			tc.row.Mix, tc.row.Policy = mix, results.PolicyLRU
			if len(rows) != 1 || rows[0].Mix != tc.row.Mix || rows[0].Runs != tc.row.Runs || rows[0].Verified != tc.row.Verified ||
				rows[0].Wrong != tc.row.Wrong || rows[0].Stale != tc.row.Stale {
				t.Errorf("rows %+v, want %+v", rows, tc.row)
			}
		})
	}
}
