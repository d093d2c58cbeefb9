package s3test

import "testing"

func TestStartAnswers(t *testing.T) {
	s := Start(t)
	if keys := s.Keys(t, s.Open(t, NewBucket()).Bucket()); len(keys) != 0 {
		t.Errorf("a new bucket holds %q, want nothing", keys)
	}
}
