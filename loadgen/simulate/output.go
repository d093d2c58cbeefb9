package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"golang.org/x/sync/errgroup"
)

// WriteTable writes rep as a table, one row per policy and size.
func WriteTable(w io.Writer, rep Report, unit bool) error {
	fmt.Fprintf(w, "requests %d, objects %d", rep.Requests, rep.Objects)
	if rep.SampleRate > 0 {
		fmt.Fprintf(w, " (sampled at %g of a trace of %d requests, %d objects)", rep.SampleRate, rep.TraceRequests, rep.TraceObjects)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	size := "size (bytes)"
	if unit {
		size = "size (objects)"
	}
	fmt.Fprintf(tw, "policy\t%s\tmisses\tmiss ratio\tbyte miss ratio\t\n", size)
	for _, r := range rep.Results {
		b := "-"
		if r.ByteMissRatio != nil {
			b = fmt.Sprintf("%.4f", *r.ByteMissRatio)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f\t%s\t\n", r.Policy, r.Size, r.Misses, r.MissRatio, b)
	}
	return tw.Flush()
}

// WriteJSON writes rep as one JSON object.
func WriteJSON(w io.Writer, rep Report) error {
	return json.NewEncoder(w).Encode(rep)
}

// Target is the smallest cache size at which a policy reaches a hit rate.
type Target struct {
	Policy string
	// Size is the smallest size found reaching the hit rate, within Precision of the smallest
	// there is; 0 when even the whole working set does not reach it.
	Size    int64
	HitRate float64 // at Size, or at the whole working set when unreached
}

// Precision is the relative precision of FindTargets' sizes.
const Precision = 0.005

// FindTargets finds, for each policy, the smallest size whose hit rate reaches hitRate, by
// bisection between one unit and the working set. Hit rates grow with size for LRU and MIN, and
// nearly always for the others; where they do not, the size found is one that reaches the rate.
func (s *Sim) FindTargets(ctx context.Context, hitRate float64) ([]Target, error) {
	out := make([]Target, len(s.cfg.Policies))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Workers)
	for i, p := range s.cfg.Policies {
		if p == PolicyMIN {
			s.PrepareMIN()
		}
		g.Go(func() error {
			hr := func(size int64) (float64, error) {
				r, err := s.One(gctx, p, size)
				return 1 - r.MissRatio, err
			}
			hi := max(1, s.WorkingSet())
			h, err := hr(hi)
			if err != nil {
				return err
			}
			out[i] = Target{Policy: p, HitRate: h}
			if h < hitRate {
				return nil
			}
			lo := int64(0) // does not reach it: a cache of 0 hits nothing
			for hi-lo > 1 && float64(hi-lo) > Precision*float64(hi) {
				mid := lo + (hi-lo)/2
				hm, err := hr(mid)
				if err != nil {
					return err
				}
				if hm >= hitRate {
					hi, h = mid, hm
				} else {
					lo = mid
				}
			}
			out[i] = Target{Policy: p, Size: hi, HitRate: h}
			return nil
		})
	}
	return out, g.Wait()
}

// WriteTargets writes the targets found as a table.
func WriteTargets(w io.Writer, hitRate float64, ts []Target, unit bool) error {
	fmt.Fprintf(w, "smallest size reaching a hit rate of %g:\n", hitRate)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	unitName := "bytes"
	if unit {
		unitName = "objects"
	}
	for _, t := range ts {
		if t.Size == 0 {
			fmt.Fprintf(tw, "%s\tunreached\t(%.4f with the whole working set)\t\n", t.Policy, t.HitRate)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d %s\t(hit rate %.4f)\t\n", t.Policy, t.Size, unitName, t.HitRate)
	}
	return tw.Flush()
}
