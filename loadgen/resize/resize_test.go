package resize

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// series makes one-second windows from hit rates in percent, 1000 lookups each; a negative rate is
// a window without lookups.
func series(rates ...float64) []Window {
	var ws []Window
	for i, r := range rates {
		w := Window{Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second}
		if r >= 0 {
			w.Gets, w.Hits = 1000, uint64(10*r)
		}
		ws = append(ws, w)
	}
	return ws
}

func TestAnalyzeResizes(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name    string
		windows []Window
		at      []time.Duration
		window  time.Duration // 0: 10 s
		want    []Effect      // Event is filled in from at
	}{
		{
			name:    "dip and recovery",
			windows: series(60, 60, 60, 60, 40, 50, 58, 60, 60),
			at:      []time.Duration{4 * s},
			// Before: windows ending at 1..4 s, mean 60%; lowest 40% in the window ending at 5 s;
			// back within 5 points (>= 55%) in the window ending at 7 s: 3 s after the resize.
			want: []Effect{{Before: 0.6, BeforeN: 4, Lowest: 0.4, LowestAt: 5 * s, Dip: 20, Recovered: true, Recovery: 3 * s}},
		},
		{
			name:    "only the window before counts",
			windows: series(0, 0, 80, 80, 80, 70, 80),
			at:      []time.Duration{5 * s},
			window:  3 * s,
			want:    []Effect{{Before: 0.8, BeforeN: 3, Lowest: 0.7, LowestAt: 6 * s, Dip: 10, Recovered: true, Recovery: 2 * s}},
		},
		{
			name:    "never left the tolerance",
			windows: series(50, 50, 50, 47, 50),
			at:      []time.Duration{3 * s},
			want:    []Effect{{Before: 0.5, BeforeN: 3, Lowest: 0.47, LowestAt: 4 * s, Dip: 3, Recovered: true}},
		},
		{
			name:    "not within the run",
			windows: series(50, 50, 50, 20, 30, 40),
			at:      []time.Duration{3 * s},
			want:    []Effect{{Before: 0.5, BeforeN: 3, Lowest: 0.2, LowestAt: 4 * s, Dip: 30}},
		},
		{
			name: "each resize up to the next; empty windows left out",
			// The second resize's dip (at 7 s) is not the first's: the first looks at windows
			// starting before 6 s.
			windows: series(60, 60, 40, -1, 60, 60, 60, 10, 60),
			at:      []time.Duration{2 * s, 6 * s},
			want: []Effect{
				{Before: 0.6, BeforeN: 2, Lowest: 0.4, LowestAt: 3 * s, Dip: 20, Recovered: true, Recovery: 3 * s},
				{Before: 0.56, BeforeN: 5, Lowest: 0.1, LowestAt: 8 * s, Dip: 46, Recovered: true, Recovery: 3 * s},
			},
		},
		{
			name:    "a window astride the resize counts after it",
			windows: []Window{{0, s, 1000, 600, 0}, {s, 2500 * time.Millisecond, 1000, 300, 0}, {2500 * time.Millisecond, 3 * s, 1000, 600, 0}},
			at:      []time.Duration{2 * s},
			want:    []Effect{{Before: 0.6, BeforeN: 1, Lowest: 0.3, LowestAt: 2500 * time.Millisecond, Dip: 30, Recovered: true, Recovery: s}},
		},
		{
			name:    "no window before: no mean, no dip",
			windows: series(10, 60),
			at:      []time.Duration{0},
			want:    []Effect{{}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var events []Event
			for _, a := range tc.at {
				events = append(events, Event{At: a, Action: ActionActivate})
			}
			window := tc.window
			if window == 0 {
				window = 10 * s
			}
			got := Analyze(tc.windows, events, window, 0.05)
			if len(got) != len(tc.want) {
				t.Fatalf("%d effects, want %d", len(got), len(tc.want))
			}
			for i, g := range got {
				w := tc.want[i]
				w.Event = events[i]
				if !near(g.Before, w.Before) || g.BeforeN != w.BeforeN || !near(g.Lowest, w.Lowest) || g.LowestAt != w.LowestAt ||
					!near(g.Dip, w.Dip) || g.Recovered != w.Recovered || g.Recovery != w.Recovery || g.Event != w.Event {
					t.Errorf("resize %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

// A shrink settles at a new, lower level: Settled says which, over the last window before the next
// resize or the end, while Recovery to the old mean never comes.
func TestResizeSettles(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name        string
		windows     []Window
		at          []time.Duration
		window      time.Duration
		wantSettled []float64
		wantN       []int
	}{
		{"a shrink to a lower level", series(78, 78, 78, 64, 69, 70, 71, 69), []time.Duration{3 * s}, 3 * s, []float64{0.7}, []int{3}},
		{"each up to the next resize", series(60, 60, 30, 50, 60, 60, 80, 90), []time.Duration{2 * s, 6 * s}, 2 * s, []float64{0.6, 0.85}, []int{2, 2}},
		{"fewer windows than the window", series(60, 60, 40), []time.Duration{2 * s}, 10 * s, []float64{0.4}, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var events []Event
			for _, a := range tc.at {
				events = append(events, Event{At: a, Action: ActionStandby})
			}
			for i, e := range Analyze(tc.windows, events, tc.window, 0.05) {
				if !near(e.Settled, tc.wantSettled[i]) || e.SettledN != tc.wantN[i] {
					t.Errorf("resize %d settles at %g over %d windows, want %g over %d", i, e.Settled, e.SettledN, tc.wantSettled[i], tc.wantN[i])
				}
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// The Markdown names each resize's figures, says when the rate did not come back, and counts the
// failed requests.
func TestWriteResizeMarkdown(t *testing.T) {
	ws := series(50, 50, 50, 20, 30, 40)
	ev := []Event{{At: 3 * time.Second, Action: ActionActivate, Node: 3, From: 2, To: 3}}
	r := &Result{Mix: DefaultMix(), Policy: "LRU", Rate: 300, Duration: 6 * time.Second, Window: 10 * time.Second,
		Tolerance: 0.05, Windows: ws, Events: ev, Effects: Analyze(ws, ev, 10*time.Second, 0.05)}
	r.Step.All.Requests, r.Step.All.Successes = 100, 98
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| activate node 3 | 3.0 s | 2 → 3 | 50.0% | 20.0% (window ending at 4.0 s) | 30.0 points | not within the run | 30.0% |",
		"failed (network errors or answers outside 2xx): 2", "| 3.0 s – 4.0 s | 1000 | 20.0% | 0 |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, b.String())
		}
	}
}
