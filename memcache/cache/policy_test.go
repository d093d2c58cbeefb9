package cache

import (
	"errors"
	"slices"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    Policy
		wantErr bool
	}{
		{"Least Recently Used", LRU, false},
		{"least recently used", LRU, false},
		{"  LRU\n", LRU, false},
		{"lru", LRU, false},
		{"Random Replacement", Random, false},
		{"RANDOM REPLACEMENT", Random, false},
		{"RR", Random, false},
		{" random ", Random, false},
		{"SIEVE", SIEVE, false},
		{" sieve\t", SIEVE, false},
		{"S3-FIFO", S3FIFO, false},
		{"s3-fifo", S3FIFO, false},
		{" S3FIFO ", S3FIFO, false},
		{"s3fifo", S3FIFO, false},
		{"", LRU, true},
		{"LFU", LRU, true},
		{"Least  Recently Used", LRU, true},
		{"S3 FIFO", LRU, true},
		{"S3_FIFO", LRU, true},
		{"FIFO", LRU, true},
		{"sieve2", LRU, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePolicy(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownPolicy) {
					t.Errorf("ParsePolicy(%q) error = %v, want ErrUnknownPolicy", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParsePolicy(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPolicyText(t *testing.T) {
	tests := []struct {
		p    Policy
		want string
	}{
		{LRU, "Least Recently Used"},
		{Random, "Random Replacement"},
		{SIEVE, "SIEVE"},
		{S3FIFO, "S3-FIFO"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			b, err := tt.p.MarshalText()
			if err != nil || string(b) != tt.want {
				t.Errorf("MarshalText() = %q, %v; want %q, nil", b, err, tt.want)
			}
			var back Policy = 7
			if err := back.UnmarshalText(b); err != nil || back != tt.p {
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, tt.p)
			}
		})
	}
	for _, p := range []Policy{4, 9} {
		if _, err := p.MarshalText(); !errors.Is(err, ErrUnknownPolicy) {
			t.Errorf("Policy(%d).MarshalText() error = %v, want ErrUnknownPolicy", p, err)
		}
	}
	if got, want := Policy(9).String(), "Policy(9)"; got != want {
		t.Errorf("Policy(9).String() = %q, want %q", got, want)
	}
	var p Policy = SIEVE
	if err := p.UnmarshalText([]byte("LFU")); !errors.Is(err, ErrUnknownPolicy) || p != SIEVE {
		t.Errorf("UnmarshalText(LFU) = %v, policy %v; want ErrUnknownPolicy, SIEVE unchanged", err, p)
	}
}

func TestPolicies(t *testing.T) {
	want := []Policy{LRU, Random, SIEVE, S3FIFO}
	got := Policies()
	if !slices.Equal(got, want) {
		t.Fatalf("Policies() = %v, want %v", got, want)
	}
	got[0] = S3FIFO // the caller owns the slice
	if again := Policies(); !slices.Equal(again, want) {
		t.Errorf("Policies() after the caller changed its copy = %v, want %v", again, want)
	}
	if Policy(0) != LRU {
		t.Errorf("the zero Policy is %v, want LRU", Policy(0))
	}
}

func TestFIFOEvictsOldestWhateverItsUse(t *testing.T) {
	s := NewStore(3, FIFO, 1) // three one-byte keys with empty values
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.Put(k, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.Get("a") // a use changes nothing under FIFO
	if _, err := s.Put("d", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Peek("a"); ok {
		t.Error("FIFO kept the oldest entry because it was used")
	}
	for _, k := range []string{"b", "c", "d"} {
		if _, ok := s.Peek(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	if FIFO.String() != "FIFO" {
		t.Errorf("FIFO.String() = %q", FIFO.String())
	}
	if slices.Contains(Policies(), FIFO) {
		t.Error("the service offers FIFO")
	}
}
