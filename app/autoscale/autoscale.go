// Package autoscale decides when the memcache pool should grow or shrink, from its miss rate.
package autoscale

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// The defaults, and why. Rates are misses over lookups (gets) in one interval.
const (
	// DefaultEnabled: off until someone turns it on. Resizing moves keys, and every moved key misses
	// once; a deployment should choose that knowingly.
	DefaultEnabled = false

	// DefaultInterval is the course's minute: long enough for a busy pool's miss rate to mean
	// something (and to span twelve of the 5-second statistics rows), short enough that a pool that
	// has stopped working is seen within a minute or two.
	DefaultInterval = time.Minute

	// DefaultGrowAbove is 0.5, not the course's 0.8. A pool that misses 80% of its lookups has been
	// failing for a while (it hits one read in five) before help arrives; above one in two it costs
	// nearly as much as it saves. The backend's writes put a floor under the miss rate (a new image
	// is a new object name, so its first read misses): for the bench's 80:20 mix that floor is up to
	// 0.25, so a miss rate above 0.5 there means capacity misses, which more nodes cure. A write-heavy
	// mix (50:50 or worse) can miss half its lookups whatever the size; MaxNodes is what caps its
	// growth, and it should be set lower for such a workload.
	DefaultGrowAbove = 0.5

	// DefaultShrinkBelow is 0.1, not the course's 0.2. The same write floor makes 0.2 a coin toss for
	// the 80:20 mix: its miss rate sits around 0.2 however large the pool, so the course's pool shrinks
	// or not by noise and then grows back. Below 0.1 the pool hits more than nine lookups in ten and
	// has memory to spare; a workload whose writes keep it above 0.1 simply never shrinks, which costs
	// nodes, never hits. The gap to DefaultGrowAbove (0.4) is far wider than one step of either ratio
	// moves the miss rate of a skewed workload, so a grow does not invite a shrink or the reverse.
	DefaultShrinkBelow = 0.1

	// DefaultGrowRatio is the course's x2: a pool that misses half its lookups needs memory soon, and
	// doubling goes from 1 to 8 nodes in three steps.
	DefaultGrowRatio = 2.0

	// DefaultShrinkRatio is x0.75, not the course's x0.5. Shrinking only saves memory, and each step
	// drops the leaving nodes' share of the cached images, which then miss: a quarter at a time (8, 6,
	// 4, 3, 2, 1) keeps each dip small. With x2 and x0.5 a grow and a shrink return to the same size
	// and can alternate for ever; 2 x 0.75 = 1.5 does not close that loop.
	DefaultShrinkRatio = 0.75

	// DefaultCoolDown is five intervals. After a resize the moved keys miss once and the new nodes
	// start empty, so the next interval or two measure the refill, not the new size; judging them would
	// grow again on the dip a grow itself caused. Five minutes lets the hot set refill and bounds the
	// pool to six changes on the pool page's 30-minute chart.
	DefaultCoolDown = 5 * time.Minute

	// DefaultMinNodes and DefaultMaxNodes are the pool's own bounds.
	DefaultMinNodes = MinNodes
	DefaultMaxNodes = MaxNodes
)

// MinLookups is the fewest lookups in an interval on which the scaler acts. A miss rate p measured
// over n lookups is off by sqrt(p(1-p)/n): at 100 lookups and the thresholds' rates that is 3 to 5
// points, an eighth of the gap between the default thresholds, so noise alone cannot carry the pool
// from one side to the other. Under 100 lookups a minute (fewer than two a second) the misses are
// mostly first reads of images nobody has read yet, which no size cures, and a cold or idle pool
// (100% misses out of a handful) must not be grown to the maximum.
const MinLookups = 100

// The pool's size is 1 to 8 nodes whatever the settings say.
const (
	MinNodes = 1
	MaxNodes = 8
)

// Ranges of the settings, besides the pool's bounds.
const (
	// MinInterval is two of the memcache's 5-second statistics rows, from which the miss rate comes.
	MinInterval = 10 * time.Second
	MaxInterval = time.Hour
	// MaxCoolDown is a day: a longer one is the scaler turned off.
	MaxCoolDown = 24 * time.Hour
	// MaxGrowRatio reaches MaxNodes from one node in one step; more changes nothing.
	MaxGrowRatio = float64(MaxNodes)
)

// Settings tune the auto-scaler.
type Settings struct {
	Enabled     bool
	Interval    time.Duration // how often the caller decides, over the lookups of that interval
	GrowAbove   float64       // grow when the miss rate is above this
	ShrinkBelow float64       // shrink when the miss rate is below this
	GrowRatio   float64       // a grow multiplies the active nodes by this (> 1), rounding up
	ShrinkRatio float64       // a shrink multiplies them by this (< 1), rounding down
	CoolDown    time.Duration // no change for this long after the last one
	MinNodes    int           // the fewest active nodes, at least MinNodes
	MaxNodes    int           // the most active nodes, at most MaxNodes
}

// DefaultSettings returns the defaults above.
func DefaultSettings() Settings {
	return Settings{
		Enabled:     DefaultEnabled,
		Interval:    DefaultInterval,
		GrowAbove:   DefaultGrowAbove,
		ShrinkBelow: DefaultShrinkBelow,
		GrowRatio:   DefaultGrowRatio,
		ShrinkRatio: DefaultShrinkRatio,
		CoolDown:    DefaultCoolDown,
		MinNodes:    DefaultMinNodes,
		MaxNodes:    DefaultMaxNodes,
	}
}

// Names of the settings in errors, as a form would name its fields.
const (
	FieldInterval    = "interval"
	FieldGrowAbove   = "grow_above"
	FieldShrinkBelow = "shrink_below"
	FieldGrowRatio   = "grow_ratio"
	FieldShrinkRatio = "shrink_ratio"
	FieldCoolDown    = "cool_down"
	FieldMinNodes    = "min_nodes"
	FieldMaxNodes    = "max_nodes"
)

// ErrInvalid is wrapped by every error of Validate.
var ErrInvalid = errors.New("invalid auto-scaler setting")

// FieldError is a setting out of its range.
type FieldError struct {
	Field  string // one of the Field constants
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Validate checks every setting and returns nil or one *FieldError per wrong field, joined, so a
// form can show them all at once. Enabled or not, the settings must make sense: they are stored and
// shown either way.
func (s Settings) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	intervalOK := s.Interval >= MinInterval && s.Interval <= MaxInterval
	if !intervalOK {
		bad(FieldInterval, "%v is not between %v and %v", s.Interval, MinInterval, MaxInterval)
	}
	// 1 means never grow and 0 never shrink: a miss rate cannot leave [0, 1]. A field is compared
	// with another only when that one is valid, so each error names the field that is wrong.
	growOK := s.GrowAbove > 0 && s.GrowAbove <= 1
	if !growOK {
		bad(FieldGrowAbove, "%v is not a miss rate above 0 and at most 1", s.GrowAbove)
	}
	switch {
	case !(s.ShrinkBelow >= 0 && s.ShrinkBelow < 1):
		bad(FieldShrinkBelow, "%v is not a miss rate from 0 to below 1", s.ShrinkBelow)
	case growOK && s.ShrinkBelow >= s.GrowAbove:
		// Equal thresholds would shrink and grow the pool on either side of one rate.
		bad(FieldShrinkBelow, "%v must be below the grow threshold %v", s.ShrinkBelow, s.GrowAbove)
	}
	if !(s.GrowRatio > 1 && s.GrowRatio <= MaxGrowRatio) {
		bad(FieldGrowRatio, "%v is not above 1 and at most %v", s.GrowRatio, MaxGrowRatio)
	}
	if !(s.ShrinkRatio > 0 && s.ShrinkRatio < 1) {
		bad(FieldShrinkRatio, "%v is not between 0 and 1 (both excluded)", s.ShrinkRatio)
	}
	switch {
	case s.CoolDown < MinInterval || s.CoolDown > MaxCoolDown:
		bad(FieldCoolDown, "%v is not between %v and %v", s.CoolDown, MinInterval, MaxCoolDown)
	case intervalOK && s.CoolDown < s.Interval:
		// Shorter, the first interval after a change would count lookups made before it.
		bad(FieldCoolDown, "%v is shorter than the interval %v", s.CoolDown, s.Interval)
	}
	minOK := s.MinNodes >= MinNodes && s.MinNodes <= MaxNodes
	if !minOK {
		bad(FieldMinNodes, "%d is not between %d and %d", s.MinNodes, MinNodes, MaxNodes)
	}
	switch {
	case s.MaxNodes < MinNodes || s.MaxNodes > MaxNodes:
		bad(FieldMaxNodes, "%d is not between %d and %d", s.MaxNodes, MinNodes, MaxNodes)
	case minOK && s.MaxNodes < s.MinNodes:
		bad(FieldMaxNodes, "%d is below the minimum %d", s.MaxNodes, s.MinNodes)
	}
	return errors.Join(errs...)
}

// Input is what the scaler knows at a decision.
type Input struct {
	Now        time.Time
	Active     int       // nodes in the active set
	Alive      int       // registered nodes that heartbeat, active or standing by: the most it can use
	MissRate   float64   // misses over lookups in the last interval
	Lookups    uint64    // lookups in the last interval
	LastChange time.Time // of the active set, by the scaler or by hand; zero if never
	// Recent are the miss rates measured at earlier decisions, by the active nodes then, in any
	// order; those older than Memory(settings) are ignored. A shrink to a size whose measured miss
	// rate was above GrowAbove would grow straight back, so it is not made.
	Recent []Observation
}

// Observation is the miss rate measured over one interval with a number of active nodes.
type Observation struct {
	At       time.Time
	Nodes    int
	MissRate float64
	Lookups  uint64
}

// MemoryCoolDowns is how many cool-downs (or intervals, if longer) an observation predicts the miss
// rate at its size for. A grow that cures a high miss rate brings it under ShrinkBelow when the
// working set fits with room to spare; without a memory the scaler would then shrink back to the
// size that missed, miss, grow, and so on for ever (1, 2, 1, 2 with alternating rates of 0.9 and
// 0.02). Twelve cool-downs, an hour at the defaults, keep the pool still that long; after it, a
// workload that has shrunk can shrink the pool, and one that has not costs one grow an hour.
const MemoryCoolDowns = 12

// Memory returns how long an observation counts under s.
func Memory(s Settings) time.Duration { return MemoryCoolDowns * max(s.CoolDown, s.Interval) }

// observedAt returns the newest observation of in at nodes within the memory of s, of enough
// lookups to mean something.
func observedAt(s Settings, in Input, nodes int) (Observation, bool) {
	var best Observation
	found := false
	for _, o := range in.Recent {
		if o.Nodes != nodes || o.Lookups < MinLookups || in.Now.Sub(o.At) > Memory(s) || o.At.After(in.Now) {
			continue
		}
		if !found || o.At.After(best.At) {
			best, found = o, true
		}
	}
	return best, found
}

// Action is what a Decision does to the pool.
type Action string

// The actions.
const (
	Hold   Action = "hold"
	Grow   Action = "grow"
	Shrink Action = "shrink"
)

// Decision is the scaler's answer: change the active set from From to To nodes, or hold (To ==
// From), and why, in words for the log and the pool page.
type Decision struct {
	Action Action
	From   int
	To     int
	Reason string
}

// Decide returns what to do with the pool given the settings and the last interval. It is a pure
// function: the caller owns the clock, the statistics and the membership, and applies the decision.
//
// In order: hold when disabled or the settings are invalid; bring an active set outside
// [MinNodes, MaxNodes] back within them (a change of settings, not of load, so neither cool-down nor
// miss rate matter); hold while cooling down or on fewer than MinLookups lookups; grow above
// GrowAbove to ceil(active x GrowRatio), at most MaxNodes and the alive nodes; shrink below
// ShrinkBelow to floor(active x ShrinkRatio), at least MinNodes, unless that size was measured
// missing above GrowAbove within Memory (it would grow back); otherwise hold.
func Decide(s Settings, in Input) Decision {
	hold := func(format string, args ...any) Decision {
		return Decision{Action: Hold, From: in.Active, To: in.Active, Reason: fmt.Sprintf(format, args...)}
	}
	if !s.Enabled {
		return hold("auto-scaler off")
	}
	if err := s.Validate(); err != nil {
		return hold("invalid settings: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if in.Active > s.MaxNodes {
		return Decision{Action: Shrink, From: in.Active, To: s.MaxNodes,
			Reason: fmt.Sprintf("%d active nodes, above the maximum %d", in.Active, s.MaxNodes)}
	}
	if in.Active < s.MinNodes {
		if to := min(s.MinNodes, in.Alive); to > in.Active {
			return Decision{Action: Grow, From: in.Active, To: to,
				Reason: fmt.Sprintf("%d active nodes, below the minimum %d (%d alive)", in.Active, s.MinNodes, in.Alive)}
		}
		// Not a node alive to add: the rules below can only hold, and say why.
	}
	if !in.LastChange.IsZero() && in.Now.Sub(in.LastChange) < s.CoolDown {
		return hold("cooling down until %s (last change %s ago)",
			in.LastChange.Add(s.CoolDown).Format(time.TimeOnly), in.Now.Sub(in.LastChange).Round(time.Second))
	}
	if in.Lookups < MinLookups {
		return hold("%d lookups in the interval, fewer than %d: the miss rate means nothing yet", in.Lookups, MinLookups)
	}
	if math.IsNaN(in.MissRate) || in.MissRate < 0 || in.MissRate > 1 {
		return hold("miss rate %v is not a rate", in.MissRate)
	}
	rate := fmt.Sprintf("miss rate %.3f over %d lookups", in.MissRate, in.Lookups)
	switch {
	case in.MissRate > s.GrowAbove:
		want := scale(in.Active, s.GrowRatio, math.Ceil)
		to := min(want, s.MaxNodes, in.Alive)
		if to <= in.Active {
			return hold("%s, above %.3f, but no node to add: %d active, maximum %d, %d alive",
				rate, s.GrowAbove, in.Active, s.MaxNodes, in.Alive)
		}
		return Decision{Action: Grow, From: in.Active, To: to,
			Reason: fmt.Sprintf("%s, above %.3f: x%g is %d nodes, %d within the maximum %d and %d alive",
				rate, s.GrowAbove, s.GrowRatio, want, to, s.MaxNodes, in.Alive)}
	case in.MissRate < s.ShrinkBelow:
		want := scale(in.Active, s.ShrinkRatio, math.Floor)
		to := max(want, s.MinNodes, MinNodes)
		if to >= in.Active {
			return hold("%s, below %.3f, but already at the minimum %d", rate, s.ShrinkBelow, s.MinNodes)
		}
		if o, ok := observedAt(s, in, to); ok && o.MissRate > s.GrowAbove {
			return hold("%s, below %.3f, but %d nodes missed %.3f at %s, above %.3f: a shrink would grow back",
				rate, s.ShrinkBelow, to, o.MissRate, o.At.Format(time.TimeOnly), s.GrowAbove)
		}
		return Decision{Action: Shrink, From: in.Active, To: to,
			Reason: fmt.Sprintf("%s, below %.3f: x%g is %d nodes, %d within the minimum %d",
				rate, s.ShrinkBelow, s.ShrinkRatio, want, to, s.MinNodes)}
	}
	return hold("%s, within [%.3f, %.3f]", rate, s.ShrinkBelow, s.GrowAbove)
}

// scale is n x ratio rounded by round. The product needs no snapping to whole numbers: for n up to 8
// and any ratio with two decimals, float64 lands exactly on a whole product (5 x 1.2 is 6, not
// 6.000000000000001), which TestDecide checks.
func scale(n int, ratio float64, round func(float64) float64) int {
	return int(round(float64(n) * ratio))
}
