package resize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files a resize run writes into its folder.
const (
	JSON     = "resize.json"
	Markdown = "resize.md"
)

// WriteMarkdown writes the run's parameters, a row for each resize's effect, the requests and
// their failures, and the hit rate of every window.
func WriteMarkdown(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# imgcache pool resize\n\n%s · %s reads:writes · %s · %d MB a node · %g requests/s for %v · %d backend(s) · %d memcache nodes registered · %d images\n\n",
		r.Started.Format("2006-01-02 15:04 MST"), r.Mix, r.Policy, r.CapacityMB, r.Rate, r.Duration, r.Backends, r.Nodes, r.Dataset.Images)
	fmt.Fprintf(&b, "| resize | at | active nodes | hit rate before (mean of %v) | lowest after | dip | back within %.0f points | settles at (mean of the last %v before the next resize or the end) |\n|---|--:|--:|--:|--:|--:|---|--:|\n",
		r.Window, 100*r.Tolerance, r.Window)
	for _, e := range r.Effects {
		ev := e.Event
		what := fmt.Sprintf("%s node %d", ev.Action, ev.Node)
		if ev.Error != "" {
			what = fmt.Sprintf("%s failed: %s", ev.Action, ev.Error)
		}
		before, low, dip, back, settled := "–", "–", "–", "–", "–"
		if e.SettledN > 0 {
			settled = fmt.Sprintf("%.1f%%", 100*e.Settled)
		}
		if e.BeforeN > 0 {
			before = fmt.Sprintf("%.1f%%", 100*e.Before)
		}
		if e.BeforeN > 0 && e.LowestAt > 0 {
			low = fmt.Sprintf("%.1f%% (window ending at %s)", 100*e.Lowest, secs(e.LowestAt))
			dip = fmt.Sprintf("%.1f points", e.Dip)
			switch {
			case e.Recovered && e.Recovery == 0:
				back = "never left"
			case e.Recovered:
				back = secs(e.Recovery)
			default:
				back = "not within the run"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %d → %d | %s | %s | %s | %s | %s |\n", what, secs(ev.At), ev.From, ev.To, before, low, dip, back, settled)
	}
	st := r.Step
	fmt.Fprintf(&b, "\nRequests: %d, throughput %.1f/s, p50 %v, p99 %v; failed (network errors or answers outside 2xx): %d",
		st.All.Requests, st.Throughput, st.All.P50.Round(time.Microsecond), st.All.P99.Round(time.Microsecond), r.Failed())
	if len(st.Errors) > 0 {
		fmt.Fprintf(&b, " %v", st.Errors)
	}
	b.WriteString("\n")
	if r.Error != "" {
		fmt.Fprintf(&b, "\n**Ended with an error:** %s\n", r.Error)
	}
	b.WriteString("\n## Hit rate per window\n\n| window | lookups | hit rate | active nodes |\n|---|--:|--:|--:|\n")
	for _, win := range r.Windows {
		rate := "–"
		if h, ok := win.HitRate(); ok {
			rate = fmt.Sprintf("%.1f%%", 100*h)
		}
		fmt.Fprintf(&b, "| %s – %s | %d | %s | %d |\n", secs(win.Start), secs(win.End), win.Gets, rate, win.Active)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// secs writes a time from the start of the attack in seconds.
func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// WriteFiles writes resize.json and resize.md into dir, creating it.
func WriteFiles(dir string, r *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("resize results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, JSON), append(j, '\n'), 0o644); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, Markdown), md.Bytes(), 0o644)
}
