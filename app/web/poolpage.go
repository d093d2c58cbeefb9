package web

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/app/autoscale"
	"imgcache/database"
	"imgcache/memcache/pool"
	"imgcache/reports/statschart"
)

// The pool page's charts cover poolSpan in steps of poolStep, the course's manager page's.
const (
	poolSpan   = 30 * time.Minute
	poolStep   = time.Minute
	poolEvents = 20 // decisions listed
)

// nodeRow is one node of the pool page's table.
type nodeRow struct {
	ID                                int64
	Address, State, Heartbeat         string
	Alive, Active, Routed             bool
	Items                             int
	Bytes                             int64
	HitRate, Share, Capacity, Problem string
}

// poolForm is the auto-scaler form's values, as typed.
type poolForm struct {
	Enabled                                                                      bool
	Interval, GrowAbove, ShrinkBelow, GrowRatio, ShrinkRatio, CoolDown, Min, Max string
}

type poolPage struct {
	chrome
	Nodes    []nodeRow
	Routed   int
	Form     poolForm
	Stored   bool // settings were saved; else Form shows the defaults (and the -autoscale flag)
	Events   []database.PoolEvent
	Charts   []chartRef
	Disabled bool // no pool: the backend was built over a plain cache
}

// Flash messages of the pool page, by query parameter.
var poolFlash = map[string]string{
	"changed=1": "The node's state was changed; the backends follow within a couple of seconds.",
	"saved=1":   "The auto-scaler's settings were saved. Every backend reads them at its next evaluation.",
}

func (s *Server) pagePool(ctx context.Context, rc *fasthttp.RequestCtx) error {
	p := &poolPage{chrome: chrome{Title: "Memcache pool", Active: pathPool}}
	for _, param := range []string{"changed", "saved"} {
		if v := rc.QueryArgs().Peek(param); v != nil {
			p.Flash = poolFlash[param+"="+string(v)]
		}
	}
	if err := s.loadPool(ctx, p, nil); err != nil {
		return err
	}
	s.render(rc, http.StatusOK, "pool", p)
	return nil
}

// loadPool fills the page: nodes with their live figures, settings (into the form unless form is
// given), events and charts.
func (s *Server) loadPool(ctx context.Context, p *poolPage, form *poolForm) error {
	if s.pool == nil {
		p.Disabled = true
		return nil
	}
	nodes, err := s.poolDB.Nodes(ctx)
	if err != nil {
		return s.DBError("read the pool's nodes", err)
	}
	sctx, cancel := context.WithTimeout(ctx, app.LiveStatsTimeout)
	stats, _ := s.pool.NodeStats(sctx)
	cancel()
	now := time.Now()
	for _, n := range nodes {
		row := nodeRow{ID: n.ID, Address: n.Address, State: n.State, Alive: n.Alive(s.cfg.NodeTimeout),
			Active: n.State == database.NodeActive, Capacity: capacityText(int64(n.CapacityMB)),
			Heartbeat: agoText(n.Age), Share: "-", HitRate: "-"}
		for _, st := range stats {
			if st.Member.ID != n.ID {
				continue
			}
			row.Routed = true
			p.Routed++
			row.Share = percent(st.Share, "-")
			switch st.Breaker { // the circuit breaker's state, also the metric imgcache_memcache_node_breaker_state
			case pool.BreakerOpen:
				row.Problem = "ejected after failed calls: its images are read from the store"
				continue
			case pool.BreakerProbing:
				row.Problem = "ejected, being probed"
				continue
			}
			if st.Err != nil {
				row.Problem = "does not answer"
				continue
			}
			row.Items, row.Bytes = st.Stats.Items, st.Stats.Bytes
			row.HitRate = rate(st.Stats.Hits, st.Stats.Gets, "no lookups yet")
		}
		p.Nodes = append(p.Nodes, row)
	}
	settings, stored, err := s.CurrentAutoscale(ctx)
	if err != nil {
		return s.DBError("read the auto-scaler's settings", err)
	}
	p.Stored = stored
	if form != nil {
		p.Form = *form
	} else {
		p.Form = formOf(settings)
	}
	if p.Events, err = s.poolDB.PoolEvents(ctx, now.Add(-24*time.Hour), poolEvents); err != nil {
		return s.DBError("read the pool's decisions", err)
	}
	var lookups, misses uint64
	for _, st := range stats {
		lookups, misses = lookups+st.Stats.Gets, misses+st.Stats.Misses
	}
	for _, c := range []struct{ slug, alt string }{
		{"size", fmt.Sprintf("Active memcache nodes over the last 30 minutes; %d now.", p.Routed)},
		{"miss-rate", "Miss rate of the pool over the last 30 minutes; " + rate(misses, lookups, "no lookups") + " since the nodes started."},
	} {
		p.Charts = append(p.Charts, chartRef{Alt: c.alt, URL: poolChartPrefix + c.slug + ".png",
			Width: chartPixels(statschart.Width), Height: chartPixels(statschart.Height)})
	}
	return nil
}

// agoText writes how long ago something was, roughly.
func agoText(d time.Duration) string {
	switch {
	case d > 24*time.Hour:
		return "long ago"
	case d < time.Second:
		return "just now"
	}
	return d.Round(time.Second).String() + " ago"
}

func formOf(a autoscale.Settings) poolForm {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return poolForm{Enabled: a.Enabled, Interval: a.Interval.String(), GrowAbove: f(a.GrowAbove), ShrinkBelow: f(a.ShrinkBelow),
		GrowRatio: f(a.GrowRatio), ShrinkRatio: f(a.ShrinkRatio), CoolDown: a.CoolDown.String(),
		Min: strconv.Itoa(a.MinNodes), Max: strconv.Itoa(a.MaxNodes)}
}

// parsePoolForm reads the auto-scaler form into settings, naming every field that is wrong.
func parsePoolForm(f poolForm) (autoscale.Settings, error) {
	var problems []string
	dur := func(name, v string) time.Duration {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q is not a duration such as 1m or 90s.", name, v))
		}
		return d
	}
	num := func(name, v string) float64 {
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			problems = append(problems, fmt.Sprintf("%s: %q is not a number.", name, v))
		}
		return x
	}
	whole := func(name, v string) int {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q is not a whole number.", name, v))
		}
		return n
	}
	a := autoscale.Settings{Enabled: f.Enabled, Interval: dur("Interval", f.Interval), GrowAbove: num("Grow above", f.GrowAbove),
		ShrinkBelow: num("Shrink below", f.ShrinkBelow), GrowRatio: num("Grow ratio", f.GrowRatio), ShrinkRatio: num("Shrink ratio", f.ShrinkRatio),
		CoolDown: dur("Cool-down", f.CoolDown), MinNodes: whole("Minimum nodes", f.Min), MaxNodes: whole("Maximum nodes", f.Max)}
	if problems == nil {
		if err := a.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				problems = append(problems, line+".")
			}
		}
	}
	if problems != nil {
		return a, errorf(app.ErrInvalid, "%s", strings.Join(problems, " "))
	}
	return a, nil
}

// setAutoscale saves the auto-scaler form.
func (s *Server) setAutoscale(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if s.pool == nil {
		return errorf(app.ErrNotFound, "There is no memcache pool here.")
	}
	v, err := formValues(rc, "enabled", "interval", "grow_above", "shrink_below", "grow_ratio", "shrink_ratio", "cool_down",
		"min_nodes", "max_nodes", csrfField)
	if err != nil {
		return err
	}
	if err := checkForm(rc, v[csrfField]); err != nil {
		return err
	}
	form := poolForm{Enabled: v["enabled"] == "on", Interval: v["interval"], GrowAbove: v["grow_above"], ShrinkBelow: v["shrink_below"],
		GrowRatio: v["grow_ratio"], ShrinkRatio: v["shrink_ratio"], CoolDown: v["cool_down"], Min: v["min_nodes"], Max: v["max_nodes"]}
	settings, err := parsePoolForm(form)
	if err != nil {
		p := &poolPage{chrome: chrome{Title: "Memcache pool", Active: pathPool}}
		if err := s.loadPool(ctx, p, &form); err != nil {
			return err
		}
		code, msg := s.pageFailure(rc, err)
		p.Error = msg
		s.render(rc, code, "pool", p)
		return nil
	}
	if _, err := s.poolDB.InsertPoolSettings(ctx, app.PoolSettingsRow(settings)); err != nil {
		return s.DBError("save the auto-scaler's settings", err)
	}
	seeOther(rc, pathPool+"?saved=1")
	return nil
}

// setNodeState activates a node or stands it by, by hand, and records it among the decisions.
func (s *Server) setNodeState(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if s.pool == nil {
		return errorf(app.ErrNotFound, "There is no memcache pool here.")
	}
	v, err := formValues(rc, "node", "state", csrfField)
	if err != nil {
		return err
	}
	if err := checkForm(rc, v[csrfField]); err != nil {
		return err
	}
	id, err := strconv.ParseInt(v["node"], 10, 64)
	state := v["state"]
	if err != nil || state != database.NodeActive && state != database.NodeStandby {
		return errorf(app.ErrInvalid, "Choose a node and the state active or standby.")
	}
	nodes, err := s.poolDB.Nodes(ctx)
	if err != nil {
		return s.DBError("read the pool's nodes", err)
	}
	now, before := time.Now(), 0
	i := slices.IndexFunc(nodes, func(n database.Node) bool { return n.ID == id })
	if i < 0 {
		return errorf(app.ErrNotFound, "There is no node %d.", id)
	}
	for _, n := range nodes {
		if n.State == database.NodeActive && n.Alive(s.cfg.NodeTimeout) {
			before++
		}
	}
	after := before
	if nodes[i].Alive(s.cfg.NodeTimeout) && nodes[i].State != state {
		if state == database.NodeActive {
			after++
		} else {
			after--
		}
	}
	if state == database.NodeActive && after > pool.MaxMembers {
		return errorf(app.ErrUnprocessable, "%d nodes are active already, the most the pool routes to: stand one by first.", before)
	}
	if state == database.NodeStandby && after < 1 && before >= 1 {
		return errorf(app.ErrUnprocessable, "Node %d is the last active node: activate another before standing it by.", id)
	}
	if err := s.poolDB.SetNodeState(ctx, id, state); err != nil {
		return s.DBError("change the node's state", err)
	}
	action := map[string]string{database.NodeActive: "activate", database.NodeStandby: "standby"}[state]
	if err := s.poolDB.InsertPoolEvent(ctx, database.PoolEvent{CreatedAt: now, Action: action, From: before, To: after,
		Reason: fmt.Sprintf("node %d %s by hand on the pool page", id, map[string]string{"activate": "activated", "standby": "stood by"}[action])}); err != nil {
		return s.DBError("record the change", err)
	}
	s.log.Info("pool changed by hand", "node", id, "state", state, "from", before, "to", after)
	if err := s.SyncPool(ctx); err != nil {
		s.log.Warn("changed the pool, but could not re-read it", "err", err)
	}
	seeOther(rc, pathPool+"?changed=1")
	return nil
}

// pagePoolChart draws one of the pool page's charts over the last half hour.
func (s *Server) pagePoolChart(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if s.pool == nil {
		return errorf(app.ErrNotFound, "There is no memcache pool here.")
	}
	name := strings.TrimPrefix(string(rc.Path()), poolChartPrefix)
	now := time.Now().Truncate(poolStep).Add(poolStep)
	var series statschart.Series
	var err error
	switch name {
	case "size.png":
		series, err = s.poolSizeSeries(ctx, now)
	case "miss-rate.png":
		series, err = s.missRateSeries(ctx, now)
	default:
		return errorf(app.ErrNotFound, "There is no chart %q.", name)
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := statschart.WriteSeriesPNG(&buf, series); err != nil {
		return err
	}
	rc.SetContentType("image/png")
	rc.Response.Header.Set("Cache-Control", "no-store")
	rc.Response.Header.Set("X-Content-Type-Options", "nosniff")
	rc.SetBody(buf.Bytes())
	return nil
}

// poolSizeSeries is the active node count at the end of each step of the last poolSpan.
func (s *Server) poolSizeSeries(ctx context.Context, end time.Time) (statschart.Series, error) {
	events, err := s.poolDB.PoolEvents(ctx, end.Add(-24*time.Hour), 5000)
	if err != nil {
		return statschart.Series{}, s.DBError("read the pool's decisions", err)
	}
	nodes, err := s.poolDB.Nodes(ctx)
	if err != nil {
		return statschart.Series{}, s.DBError("read the pool's nodes", err)
	}
	return activeNodesSeries(events, nodes, s.PoolSize(), end), nil
}

// activeNodesSeries is the active node count at the end of each step: the count after the last
// decision at or before it (every evaluation records one), else the count now, and never more than
// the nodes that had registered by then: a node counts from its first heartbeat record on, not for
// the whole span. events are newest first, as PoolEvents returns them.
func activeNodesSeries(events []database.PoolEvent, nodes []database.Node, current int, end time.Time) statschart.Series {
	events = slices.Clone(events)
	slices.Reverse(events) // oldest first
	out := statschart.Series{Title: "Active memcache nodes", YLabel: "nodes", Step: poolStep, Whole: true, MaxAtLeast: 2}
	for at := end.Add(-poolSpan + poolStep); !at.After(end); at = at.Add(poolStep) {
		v, known := current, false
		for _, e := range events {
			if e.CreatedAt.After(at) {
				break
			}
			v, known = e.To, true
		}
		if !known && len(events) > 0 && events[0].CreatedAt.After(at) {
			v = events[0].From // before the first decision in view: what it started from
		}
		registered := 0
		for _, n := range nodes {
			if !n.RegisteredAt.After(at) {
				registered++
			}
		}
		out.Points = append(out.Points, statschart.SeriesPoint{At: at, Value: float64(min(v, registered)), OK: true})
	}
	return out
}

// missRateSeries is the pool's miss rate in each step, over all nodes' statistics rows.
func (s *Server) missRateSeries(ctx context.Context, end time.Time) (statschart.Series, error) {
	rows, err := s.poolDB.StatsSince(ctx, end.Add(-poolSpan))
	if err != nil {
		return statschart.Series{}, s.DBError("read cache statistics", err)
	}
	out := statschart.Series{Title: "Miss rate of the pool", YLabel: "misses / lookups (%)", Step: poolStep, Percent: true}
	start := end.Add(-poolSpan)
	misses, lookups := make([]int64, int(poolSpan/poolStep)), make([]int64, int(poolSpan/poolStep))
	for _, r := range rows {
		i := int(r.CreatedAt.Sub(start) / poolStep)
		if i < 0 || i >= len(misses) {
			continue
		}
		misses[i] += r.MissCount
		lookups[i] += r.HitCount + r.MissCount
	}
	for i := range misses {
		p := statschart.SeriesPoint{At: start.Add(time.Duration(i+1) * poolStep)}
		if lookups[i] > 0 {
			p.Value, p.OK = float64(misses[i])/float64(lookups[i]), true
		}
		out.Points = append(out.Points, p)
	}
	return out, nil
}
