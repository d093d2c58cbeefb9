package autoscale_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"imgcache/app/autoscale"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)

// tick is one interval of a recorded series: the pool's miss rate and lookups over it, and how many
// nodes were alive at its end.
type tick struct {
	miss    float64
	lookups uint64
	alive   int
}

// series is n intervals of t.
func series(n int, t tick) []tick {
	out := make([]tick, n)
	for i := range out {
		out[i] = t
	}
	return out
}

// concat joins series.
func concat(parts ...[]tick) []tick {
	var out []tick
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// run plays a series through Decide on a fake clock, one decision per interval, applying each one as
// the caller would. It returns one letter per interval (g grow, s shrink, . hold) and the sizes after
// each decision, and checks what every decision must satisfy.
func run(t *testing.T, s autoscale.Settings, active int, lastChange time.Time, ticks []tick) (string, []int) {
	t.Helper()
	return runFunc(t, s, active, lastChange, len(ticks), func(i, _ int) tick { return ticks[i] })
}

// runFunc is run with the interval's tick chosen by its index and the active nodes, so that a miss
// rate can follow the pool's size. Like the backend, it gives each decision the miss rates measured
// at every earlier one.
func runFunc(t *testing.T, s autoscale.Settings, active int, lastChange time.Time, n int, at func(i, active int) tick) (string, []int) {
	t.Helper()
	var letters strings.Builder
	sizes := make([]int, n)
	now := t0
	var recent []autoscale.Observation
	for i := range n {
		tk := at(i, active)
		now = now.Add(s.Interval)
		in := autoscale.Input{Now: now, Active: active, Alive: tk.alive, MissRate: tk.miss, Lookups: tk.lookups,
			LastChange: lastChange, Recent: recent}
		d := autoscale.Decide(s, in)
		checkDecision(t, s, in, d)
		recent = append(recent, autoscale.Observation{At: now, Nodes: active, MissRate: tk.miss, Lookups: tk.lookups})
		switch d.Action {
		case autoscale.Grow:
			letters.WriteByte('g')
		case autoscale.Shrink:
			letters.WriteByte('s')
		default:
			letters.WriteByte('.')
		}
		if d.To != active {
			active, lastChange = d.To, now
		}
		sizes[i] = active
	}
	return letters.String(), sizes
}

// TestOwnResizesDoNotOscillate: a pool whose growth pulls its miss rate under the shrink threshold
// (0.9 on one node, 0.02 on two) grows once and stays, within the scaler's memory; once the memory
// of one node's misses has passed and the workload has shrunk, it shrinks.
func TestOwnResizesDoNotOscillate(t *testing.T) {
	s := on()
	memory := int(autoscale.Memory(s) / s.Interval)
	fits := func(_, active int) tick {
		if active == 1 {
			return high
		}
		return low
	}
	got, sizes := runFunc(t, s, 1, time.Time{}, memory, fits)
	if want := "g" + strings.Repeat(".", memory-1); got != want || sizes[len(sizes)-1] != 2 {
		t.Errorf("decisions %q ending at %d nodes, want %q ending at 2", got, sizes[len(sizes)-1], want)
	}
	// Past the memory, the workload has moved to a small hot set: one node now suffices.
	got, sizes = runFunc(t, s, 1, time.Time{}, 3*memory, func(i, active int) tick {
		if i > memory+5 {
			return low
		}
		return fits(i, active)
	})
	if !strings.HasPrefix(got, "g") || strings.Count(got, "s") != 1 || strings.Count(got, "g") != 1 || sizes[len(sizes)-1] != 1 {
		t.Errorf("decisions %q ending at %d nodes, want one grow, then one shrink once the memory passed", got, sizes[len(sizes)-1])
	}
	if i := strings.Index(got, "s"); i < memory {
		t.Errorf("shrank at interval %d, within the memory of %d intervals", i, memory)
	}
}

// checkDecision asserts what holds of every decision on valid, enabled settings.
func checkDecision(t *testing.T, s autoscale.Settings, in autoscale.Input, d autoscale.Decision) {
	t.Helper()
	if d.From != in.Active || d.Reason == "" {
		t.Errorf("Decide(%+v) = %+v: want From = %d and a reason", in, d, in.Active)
	}
	switch d.Action {
	case autoscale.Hold:
		if d.To != d.From {
			t.Errorf("Decide(%+v) = %+v: a hold that changes the size", in, d)
		}
	case autoscale.Grow:
		if d.To <= d.From || d.To > s.MaxNodes || d.To > in.Alive {
			t.Errorf("Decide(%+v) = %+v: a grow must add nodes, within max %d and %d alive", in, d, s.MaxNodes, in.Alive)
		}
	case autoscale.Shrink:
		if d.To >= d.From || d.To < s.MinNodes || d.To < autoscale.MinNodes {
			t.Errorf("Decide(%+v) = %+v: a shrink must remove nodes, down to min %d", in, d, s.MinNodes)
		}
	default:
		t.Errorf("Decide(%+v) = %+v: unknown action", in, d)
	}
}

// on is the defaults, turned on.
func on(mutate ...func(*autoscale.Settings)) autoscale.Settings {
	s := autoscale.DefaultSettings()
	s.Enabled = true
	for _, m := range mutate {
		m(&s)
	}
	return s
}

var (
	high    = tick{miss: 0.9, lookups: 5000, alive: 8}
	low     = tick{miss: 0.02, lookups: 5000, alive: 8}
	inBand  = tick{miss: 0.3, lookups: 5000, alive: 8}
	justUp  = tick{miss: 0.55, lookups: 5000, alive: 8} // just above the grow threshold
	justIn  = tick{miss: 0.45, lookups: 5000, alive: 8} // just below it
	unheard = tick{miss: 1, lookups: 0, alive: 8}
)

func TestSeries(t *testing.T) {
	tests := []struct {
		name       string
		settings   autoscale.Settings
		active     int
		lastChange time.Time // zero: the set never changed
		ticks      []tick
		want       string // a letter per interval: g grow, s shrink, . hold
		wantSize   int    // after the last interval
	}{
		{
			name:     "steady high miss grows, holds through each cool-down, grows again up to the maximum",
			settings: on(), active: 1, ticks: series(20, high),
			want: "g....g....g.........", wantSize: 8,
		},
		{
			name:     "steady high miss stops at a lower maximum",
			settings: on(func(s *autoscale.Settings) { s.MaxNodes = 3 }), active: 1, ticks: series(12, high),
			want: "g....g......", wantSize: 3,
		},
		{
			name:     "steady low miss shrinks a quarter at a time down to one node",
			settings: on(), active: 8, ticks: series(30, low),
			want: "s....s....s....s....s.........", wantSize: 1,
		},
		{
			name:     "steady low miss stops at the minimum",
			settings: on(func(s *autoscale.Settings) { s.MinNodes = 3 }), active: 8, ticks: series(20, low),
			want: "s....s....s.........", wantSize: 3,
		},
		{
			name:     "miss rate inside the thresholds holds",
			settings: on(), active: 4, ticks: series(10, inBand),
			want: "..........", wantSize: 4,
		},
		{
			name:     "oscillating across both thresholds during the cool-down of a change holds",
			settings: on(), active: 2, lastChange: t0,
			ticks: []tick{high, low, high, low},
			want:  "....", wantSize: 2,
		},
		{
			name:     "oscillating around the grow threshold acts once per cool-down, not on every crossing",
			settings: on(), active: 2,
			ticks: []tick{justUp, justIn, justUp, justIn, justUp, justIn, justUp, justIn},
			want:  "g.....g.", wantSize: 8,
		},
		{
			name:     "no lookups holds, whatever the miss rate",
			settings: on(), active: 1, ticks: series(10, unheard),
			want: "..........", wantSize: 1,
		},
		{
			name:     "too few lookups hold; enough act",
			settings: on(), active: 1,
			ticks: []tick{
				{miss: 1, lookups: autoscale.MinLookups - 1, alive: 8},
				{miss: 1, lookups: autoscale.MinLookups, alive: 8},
			},
			want: ".g", wantSize: 2,
		},
		{
			name:     "growth is bounded by the nodes alive, and resumes when more register",
			settings: on(), active: 2,
			ticks: concat(series(7, tick{miss: 0.9, lookups: 5000, alive: 3}), series(6, tick{miss: 0.9, lookups: 5000, alive: 6})),
			want:  "g......g.....", wantSize: 6,
		},
		{
			name:     "disabled holds",
			settings: on(func(s *autoscale.Settings) { s.Enabled = false }), active: 1, ticks: series(10, high),
			want: "..........", wantSize: 1,
		},
		{
			name:     "a lowered maximum shrinks the pool at once, cool-down or not",
			settings: on(func(s *autoscale.Settings) { s.MaxNodes = 4 }), active: 8, lastChange: t0,
			ticks: series(3, inBand),
			want:  "s..", wantSize: 4,
		},
		{
			name:     "a raised minimum grows the pool at once, as far as nodes are alive",
			settings: on(func(s *autoscale.Settings) { s.MinNodes = 5 }), active: 1, lastChange: t0,
			ticks: []tick{{miss: 0.3, lookups: 5000, alive: 3}, {miss: 0.3, lookups: 5000, alive: 3}, inBand},
			want:  "g.g", wantSize: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sizes := run(t, tt.settings, tt.active, tt.lastChange, tt.ticks)
			if got != tt.want || sizes[len(sizes)-1] != tt.wantSize {
				t.Errorf("decisions %q, sizes %v\n              want %q ending at %d nodes", got, sizes, tt.want, tt.wantSize)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	s := on()
	base := autoscale.Input{Now: t0, Active: 4, Alive: 8, MissRate: 0.3, Lookups: 5000}
	with := func(f func(*autoscale.Input)) autoscale.Input { in := base; f(&in); return in }
	tests := []struct {
		name       string
		settings   autoscale.Settings
		in         autoscale.Input
		wantAction autoscale.Action
		wantTo     int
		wantReason string // a part of the reason
	}{
		{"exactly at the grow threshold holds", s,
			with(func(in *autoscale.Input) { in.MissRate = s.GrowAbove }), autoscale.Hold, 4, "within"},
		{"exactly at the shrink threshold holds", s,
			with(func(in *autoscale.Input) { in.MissRate = s.ShrinkBelow }), autoscale.Hold, 4, "within"},
		{"grow rounds up", s,
			with(func(in *autoscale.Input) { in.Active, in.MissRate = 3, 0.9 }), autoscale.Grow, 6, "above"},
		{"grow by 1.5 rounds 3 x 1.5 up to 5", on(func(s *autoscale.Settings) { s.GrowRatio = 1.5 }),
			with(func(in *autoscale.Input) { in.Active, in.MissRate = 3, 0.9 }), autoscale.Grow, 5, "above"},
		{"5 x 1.2 is 6, not 7", on(func(s *autoscale.Settings) { s.GrowRatio = 1.2 }),
			with(func(in *autoscale.Input) { in.Active, in.MissRate = 5, 0.9 }), autoscale.Grow, 6, "above"},
		{"grow stops at the maximum", s,
			with(func(in *autoscale.Input) { in.Active, in.MissRate = 5, 0.9 }), autoscale.Grow, 8, "maximum 8"},
		{"grow stops at the nodes alive", s,
			with(func(in *autoscale.Input) { in.Alive, in.MissRate = 5, 0.9 }), autoscale.Grow, 5, "5 alive"},
		{"grow with no node alive to add holds", s,
			with(func(in *autoscale.Input) { in.Alive, in.MissRate = 4, 0.9 }), autoscale.Hold, 4, "no node to add"},
		{"shrink rounds down", s,
			with(func(in *autoscale.Input) { in.Active, in.MissRate = 3, 0.01 }), autoscale.Shrink, 2, "below"},
		{"shrink of 2 x 0.75 rounds down to 1", s,
			with(func(in *autoscale.Input) { in.Active, in.MissRate = 2, 0.01 }), autoscale.Shrink, 1, "below"},
		{"shrink by half from 4 is 2", on(func(s *autoscale.Settings) { s.ShrinkRatio = 0.5 }),
			with(func(in *autoscale.Input) { in.MissRate = 0.01 }), autoscale.Shrink, 2, "below"},
		{"shrink stops at the minimum", on(func(s *autoscale.Settings) { s.MinNodes = 2; s.ShrinkRatio = 0.25 }),
			with(func(in *autoscale.Input) { in.MissRate = 0.01 }), autoscale.Shrink, 2, "minimum 2"},
		{"one node never shrinks", s,
			with(func(in *autoscale.Input) { in.Active, in.MissRate = 1, 0 }), autoscale.Hold, 1, "minimum"},
		{"a change less than the cool-down ago holds", s,
			with(func(in *autoscale.Input) { in.MissRate, in.LastChange = 0.9, t0.Add(-s.CoolDown+time.Second) }), autoscale.Hold, 4, "cooling down"},
		{"a change exactly the cool-down ago acts", s,
			with(func(in *autoscale.Input) { in.MissRate, in.LastChange = 0.9, t0.Add(-s.CoolDown) }), autoscale.Grow, 8, "above"},
		{"no active node grows to the minimum", s,
			with(func(in *autoscale.Input) { in.Active, in.Lookups = 0, 0 }), autoscale.Grow, 1, "below the minimum"},
		{"no active node and none alive holds", s,
			with(func(in *autoscale.Input) { in.Active, in.Alive, in.Lookups = 0, 0, 0 }), autoscale.Hold, 0, "lookups"},
		{"a miss rate that is not a number holds", s,
			with(func(in *autoscale.Input) { in.MissRate = math.NaN() }), autoscale.Hold, 4, "not a rate"},
		{"a miss rate above 1 holds", s,
			with(func(in *autoscale.Input) { in.MissRate = 1.5 }), autoscale.Hold, 4, "not a rate"},
		{"disabled holds", autoscale.DefaultSettings(),
			with(func(in *autoscale.Input) { in.MissRate = 0.9 }), autoscale.Hold, 4, "off"},
		{"invalid settings hold and name the field", on(func(s *autoscale.Settings) { s.GrowRatio = 0.5 }),
			with(func(in *autoscale.Input) { in.MissRate = 0.9 }), autoscale.Hold, 4, autoscale.FieldGrowRatio},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := autoscale.Decide(tt.settings, tt.in)
			if d.Action != tt.wantAction || d.To != tt.wantTo || d.From != tt.in.Active || !strings.Contains(d.Reason, tt.wantReason) {
				t.Errorf("Decide = %+v\nwant %s from %d to %d, reason containing %q", d, tt.wantAction, tt.in.Active, tt.wantTo, tt.wantReason)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*autoscale.Settings)
		want   []string // the fields named, in order; none for valid settings
	}{
		{"defaults", func(*autoscale.Settings) {}, nil},
		{"the course's settings", func(s *autoscale.Settings) {
			s.GrowAbove, s.ShrinkBelow, s.GrowRatio, s.ShrinkRatio = 0.8, 0.2, 2, 0.5
		}, nil},
		{"never shrink, never grow", func(s *autoscale.Settings) { s.ShrinkBelow, s.GrowAbove = 0, 1 }, nil},
		{"a single fixed size", func(s *autoscale.Settings) { s.MinNodes, s.MaxNodes = 3, 3 }, nil},
		{"interval too short", func(s *autoscale.Settings) { s.Interval = time.Second }, []string{autoscale.FieldInterval}},
		{"interval too long", func(s *autoscale.Settings) { s.Interval, s.CoolDown = 2*time.Hour, 2*time.Hour }, []string{autoscale.FieldInterval}},
		{"grow threshold 0", func(s *autoscale.Settings) { s.GrowAbove, s.ShrinkBelow = 0, 0 }, []string{autoscale.FieldGrowAbove}},
		{"grow threshold above 1", func(s *autoscale.Settings) { s.GrowAbove = 1.5 }, []string{autoscale.FieldGrowAbove}},
		{"grow threshold NaN", func(s *autoscale.Settings) { s.GrowAbove = math.NaN() }, []string{autoscale.FieldGrowAbove}},
		{"minimum 9 is named, not the maximum below it", func(s *autoscale.Settings) { s.MinNodes = 9 }, []string{autoscale.FieldMinNodes}},
		{"shrink threshold negative", func(s *autoscale.Settings) { s.ShrinkBelow = -0.1 }, []string{autoscale.FieldShrinkBelow}},
		{"thresholds equal", func(s *autoscale.Settings) { s.ShrinkBelow, s.GrowAbove = 0.4, 0.4 }, []string{autoscale.FieldShrinkBelow}},
		{"thresholds swapped", func(s *autoscale.Settings) { s.ShrinkBelow, s.GrowAbove = 0.8, 0.2 }, []string{autoscale.FieldShrinkBelow}},
		{"grow ratio 1", func(s *autoscale.Settings) { s.GrowRatio = 1 }, []string{autoscale.FieldGrowRatio}},
		{"grow ratio above the pool", func(s *autoscale.Settings) { s.GrowRatio = 9 }, []string{autoscale.FieldGrowRatio}},
		{"grow ratio infinite", func(s *autoscale.Settings) { s.GrowRatio = math.Inf(1) }, []string{autoscale.FieldGrowRatio}},
		{"shrink ratio 1", func(s *autoscale.Settings) { s.ShrinkRatio = 1 }, []string{autoscale.FieldShrinkRatio}},
		{"shrink ratio 0", func(s *autoscale.Settings) { s.ShrinkRatio = 0 }, []string{autoscale.FieldShrinkRatio}},
		{"cool-down shorter than the interval", func(s *autoscale.Settings) { s.CoolDown = 30 * time.Second }, []string{autoscale.FieldCoolDown}},
		{"cool-down over a day", func(s *autoscale.Settings) { s.CoolDown = 25 * time.Hour }, []string{autoscale.FieldCoolDown}},
		{"minimum 0", func(s *autoscale.Settings) { s.MinNodes = 0 }, []string{autoscale.FieldMinNodes}},
		{"maximum 9", func(s *autoscale.Settings) { s.MaxNodes = 9 }, []string{autoscale.FieldMaxNodes}},
		{"minimum above maximum", func(s *autoscale.Settings) { s.MinNodes, s.MaxNodes = 5, 4 }, []string{autoscale.FieldMaxNodes}},
		// A shrink threshold of 0 is valid: never shrink.
		{"zero settings name every wrong field", func(s *autoscale.Settings) { *s = autoscale.Settings{} }, []string{
			autoscale.FieldInterval, autoscale.FieldGrowAbove, autoscale.FieldGrowRatio,
			autoscale.FieldShrinkRatio, autoscale.FieldCoolDown, autoscale.FieldMinNodes, autoscale.FieldMaxNodes}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := autoscale.DefaultSettings()
			tt.mutate(&s)
			err := s.Validate()
			got := fields(t, err)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Validate(%+v) = %v\nnames fields %v, want %v", s, err, got, tt.want)
			}
			if err != nil && !errors.Is(err, autoscale.ErrInvalid) {
				t.Errorf("Validate = %v, want it to wrap ErrInvalid", err)
			}
		})
	}
}

// fields returns the fields an error of Validate names, checking that it is made of FieldErrors.
func fields(t testing.TB, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Validate = %v (%T), want joined FieldErrors", err, err)
	}
	var out []string
	for _, e := range joined.Unwrap() {
		var fe *autoscale.FieldError
		if !errors.As(e, &fe) || fe.Reason == "" || !strings.HasPrefix(e.Error(), fe.Field+": ") {
			t.Fatalf("Validate error %v (%T), want a FieldError naming its field", e, e)
		}
		out = append(out, fe.Field)
	}
	return out
}

// FuzzSettings feeds the validation what a form could send, and checks that whatever it accepts is
// in range and makes Decide keep its promises for any input.
func FuzzSettings(f *testing.F) {
	d := autoscale.DefaultSettings()
	f.Add(int64(d.Interval), d.GrowAbove, d.ShrinkBelow, d.GrowRatio, d.ShrinkRatio, int64(d.CoolDown), d.MinNodes, d.MaxNodes, 4, 8, 0.9, uint64(1000), int64(time.Hour))
	f.Add(int64(time.Minute), 0.8, 0.2, 2.0, 0.5, int64(time.Minute), 1, 8, 1, 8, 0.01, uint64(100), int64(0))
	f.Add(int64(0), 0.0, 0.0, 0.0, 0.0, int64(0), 0, 0, 0, 0, 0.0, uint64(0), int64(0))
	f.Add(int64(time.Minute), 1.0, 0.0, 8.0, 0.01, int64(time.Hour), 3, 3, 9, 2, 1.0, uint64(1<<40), int64(-time.Hour))
	f.Fuzz(func(t *testing.T, interval int64, growAbove, shrinkBelow, growRatio, shrinkRatio float64, coolDown int64,
		minNodes, maxNodes, active, alive int, miss float64, lookups uint64, sinceChange int64) {
		s := autoscale.Settings{Enabled: true, Interval: time.Duration(interval), GrowAbove: growAbove, ShrinkBelow: shrinkBelow,
			GrowRatio: growRatio, ShrinkRatio: shrinkRatio, CoolDown: time.Duration(coolDown), MinNodes: minNodes, MaxNodes: maxNodes}
		err := s.Validate()
		fields(t, err)
		if err != nil {
			if dec := autoscale.Decide(s, autoscale.Input{Now: t0, Active: 3, Alive: 8, MissRate: 0.9, Lookups: 1000}); dec.Action != autoscale.Hold {
				t.Fatalf("Decide on invalid settings (%v) = %+v, want a hold", err, dec)
			}
			return
		}
		if !(0 <= s.ShrinkBelow && s.ShrinkBelow < s.GrowAbove && s.GrowAbove <= 1) ||
			!(s.GrowRatio > 1 && s.ShrinkRatio > 0 && s.ShrinkRatio < 1) ||
			!(autoscale.MinNodes <= s.MinNodes && s.MinNodes <= s.MaxNodes && s.MaxNodes <= autoscale.MaxNodes) ||
			s.Interval < autoscale.MinInterval || s.CoolDown < s.Interval {
			t.Fatalf("Validate accepted %+v", s)
		}
		// Sizes a membership table could report: a few past the pool's bound.
		in := autoscale.Input{Now: t0, Active: mod(active, autoscale.MaxNodes+3), Alive: mod(alive, autoscale.MaxNodes+3),
			MissRate: miss, Lookups: lookups, LastChange: t0.Add(-time.Duration(sinceChange))}
		dec := autoscale.Decide(s, in)
		checkDecision(t, s, in, dec)
		if dec.Action != autoscale.Hold && in.Active >= s.MinNodes && in.Active <= s.MaxNodes {
			// Within the bounds, only the miss rate moves the pool, and only after the cool-down.
			if in.Now.Sub(in.LastChange) < s.CoolDown || in.Lookups < autoscale.MinLookups ||
				dec.Action == autoscale.Grow && !(miss > s.GrowAbove) || dec.Action == autoscale.Shrink && !(miss < s.ShrinkBelow) {
				t.Fatalf("Decide(%+v) = %+v against its rules", in, dec)
			}
		}
	})
}

// TestWholeProducts: a product of a size and a ratio from a form (two decimals) that is a whole
// number comes out of float64 as exactly that number, so a grow rounds it up to itself, not one more.
func TestWholeProducts(t *testing.T) {
	for hundredths := 1; hundredths <= 100*autoscale.MaxNodes; hundredths++ {
		ratio := float64(hundredths) / 100
		for n := 1; n <= autoscale.MaxNodes; n++ {
			if n*hundredths%100 != 0 {
				continue
			}
			if got, want := float64(n)*ratio, float64(n*hundredths/100); got != want {
				t.Errorf("%d x %v = %v in float64, want exactly %v", n, ratio, got, want)
			}
		}
	}
}

func mod(n, m int) int { return ((n % m) + m) % m }
