package results

import "time"

// Verification is what loadgen's check of a step's read answers found (loadgen/verify). Verified
// counts every read answered 200 or 404, the warm-up's included; Wrong and Stale are among them.
// All zero: the step was not verified (verification off, or results written before it existed).
type Verification struct {
	Verified int64 `json:"verified"`
	// Wrong reads returned bytes that are no version of their key, or no valid base64 content.
	Wrong int64 `json:"wrong"`
	// Stale reads returned a version older than the newest whose upload was acknowledged before
	// the read was sent.
	Stale int64 `json:"stale"`
	// BadReads are the first few wrong or stale reads of the step.
	BadReads []BadRead `json:"bad_reads,omitempty"`
}

// BadRead is one wrong or stale read.
type BadRead struct {
	Kind string `json:"kind"` // "wrong" or "stale"
	Key  string `json:"key"`
	// Expected is the newest version acknowledged before the read was sent ("v2"; v0 is the data
	// set's upload), with that upload's times; Got is what the read returned: a version, "no version
	// of the key (other bytes, or not base64)", "no content string" or "absent (404)".
	Expected      string    `json:"expected,omitempty"`
	ExpectedSent  time.Time `json:"expected_sent,omitzero"`
	ExpectedAcked time.Time `json:"expected_acked,omitzero"`
	Got           string    `json:"got"`
	Sent          time.Time `json:"sent"` // the read's request began
	Done          time.Time `json:"done"` // its answer was read
}

// Unverified returns the reads of the step that were wrong or stale.
func (v Verification) Unverified() int64 { return v.Wrong + v.Stale }

// Verification sums the verification of every step of the run; its BadReads are the first few of
// the run's.
func (r *Results) Verification() Verification {
	var sum Verification
	for _, s := range r.Series {
		for _, st := range s.Steps {
			sum.Add(st.Verification)
		}
	}
	return sum
}

// Add counts o's reads into v, and its offending reads while v lists fewer than a summary's few.
func (v *Verification) Add(o Verification) {
	v.Verified += o.Verified
	v.Wrong += o.Wrong
	v.Stale += o.Stale
	for _, b := range o.BadReads {
		if len(v.BadReads) < maxBadReads {
			v.BadReads = append(v.BadReads, b)
		}
	}
}

// maxBadReads is how many offending reads a summary lists.
const maxBadReads = 10
