package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"imgcache/app/autoscale"
	"imgcache/database"
	"imgcache/memcache/client"
	"imgcache/memcache/pool"
)

// Defaults of the pool's membership.
const (
	// DefaultNodeTimeout is how long a node may go without a heartbeat (one a second) before backends
	// stop routing to it: three missed beats, so one slow write of the table does not drop a node.
	DefaultNodeTimeout = 3 * time.Second
	// DefaultPoolSync is how often a backend re-reads the pool's table, so it follows a change within
	// about two seconds.
	DefaultPoolSync = time.Second
	// autoscaleTick is how often a backend checks whether an auto-scaler evaluation is due; the
	// database lets one backend evaluate per interval.
	autoscaleTick = 5 * time.Second
	// poolEventRetention is how long pool_events rows are kept.
	poolEventRetention = 7 * 24 * time.Hour
)

// PoolStore is what the backend needs of the database for the memcache pool.
type PoolStore interface {
	Nodes(ctx context.Context) ([]database.Node, error)
	SetNodeState(ctx context.Context, id int64, state string) error
	LatestPoolSettings(ctx context.Context) (database.PoolSettings, error)
	InsertPoolSettings(ctx context.Context, p database.PoolSettings) (database.PoolSettings, error)
	InsertPoolEvent(ctx context.Context, e database.PoolEvent) error
	PoolEvents(ctx context.Context, since time.Time, limit int) ([]database.PoolEvent, error)
	ClaimEvaluation(ctx context.Context, now time.Time, interval time.Duration) (bool, error)
	PrunePoolEvents(ctx context.Context, before time.Time) (int64, error)
	StatsSince(ctx context.Context, since time.Time) ([]database.StatsRow, error)
}

var _ PoolStore = (*database.DB)(nil)

// Pool is what the backend needs of the memcache pool besides Cache: its members, and changing them.
type Pool interface {
	Cache
	SetMembers(members []pool.Member) error
	Members() []pool.Member
	NodeStats(ctx context.Context) ([]pool.NodeStat, error)
	Breakers() []pool.NodeBreaker
}

var _ Pool = (*pool.Pool)(nil)

// activeMembers are the nodes the backends route to: active, and heartbeating within timeout, at most
// pool.MaxMembers of them, the lowest ids (a ninth active node waits, unused, for a place). When
// the table holds no node at all (a memcache that could not register, or an older one), fallback,
// the configured memcache URL, stands in for the pool.
func activeMembers(nodes []database.Node, timeout time.Duration, fallback string) []pool.Member {
	var members []pool.Member
	for _, n := range nodes { // by id, so every backend keeps the same nodes past the cap
		if n.State == database.NodeActive && n.Alive(timeout) && len(members) < pool.MaxMembers {
			members = append(members, pool.Member{ID: n.ID, URL: n.Address})
		}
	}
	if len(nodes) == 0 && fallback != "" {
		members = []pool.Member{{ID: 0, URL: fallback}}
	}
	return members
}

// PoolSize is the number of memcache nodes the backend routes to; 1 for a plain cache.
func (s *Server) PoolSize() int {
	if s.pool == nil {
		return 1
	}
	return len(s.pool.Members())
}

// SyncPool sets the pool's members from the table. A table that cannot be read leaves them as they
// are: the nodes serve on, and the next read catches up.
func (s *Server) SyncPool(ctx context.Context) error {
	nodes, err := s.poolDB.Nodes(ctx)
	if err != nil {
		return fmt.Errorf("read the pool's nodes: %w", err)
	}
	return s.pool.SetMembers(activeMembers(nodes, s.cfg.NodeTimeout, s.cfg.MemcacheURL))
}

// followPool re-reads the pool's table every PoolSync until the server closes.
func (s *Server) followPool() {
	defer s.background.Done()
	t := time.NewTicker(s.cfg.PoolSync)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-s.base.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.base, s.cfg.PoolSync+time.Second)
		err := s.SyncPool(ctx)
		cancel()
		switch {
		case err != nil && !failing && s.base.Err() == nil:
			s.log.Warn("cannot follow the memcache pool; routing to the nodes last seen", "err", err)
			failing = true
		case err == nil && failing:
			s.log.Info("following the memcache pool again")
			failing = false
		}
	}
}

// autoscaleSettings converts between the database's row and the scaler's settings.
func autoscaleSettings(p database.PoolSettings) autoscale.Settings {
	return autoscale.Settings{Enabled: p.Enabled, Interval: p.Interval, GrowAbove: p.GrowAbove, ShrinkBelow: p.ShrinkBelow,
		GrowRatio: p.GrowRatio, ShrinkRatio: p.ShrinkRatio, CoolDown: p.Cooldown, MinNodes: p.MinNodes, MaxNodes: p.MaxNodes}
}

// PoolSettingsRow is the table row of auto-scaler settings.
func PoolSettingsRow(a autoscale.Settings) database.PoolSettings {
	return database.PoolSettings{Enabled: a.Enabled, Interval: a.Interval, GrowAbove: a.GrowAbove, ShrinkBelow: a.ShrinkBelow,
		GrowRatio: a.GrowRatio, ShrinkRatio: a.ShrinkRatio, Cooldown: a.CoolDown, MinNodes: a.MinNodes, MaxNodes: a.MaxNodes}
}

// CurrentAutoscale returns the settings in force: the newest row, else the flag's choice of enabled
// with the defaults.
func (s *Server) CurrentAutoscale(ctx context.Context) (autoscale.Settings, bool, error) {
	row, err := s.poolDB.LatestPoolSettings(ctx)
	if errors.Is(err, database.ErrNotFound) {
		d := autoscale.DefaultSettings()
		d.Enabled = s.cfg.Autoscale
		return d, false, nil
	}
	if err != nil {
		return autoscale.Settings{}, false, err
	}
	return autoscaleSettings(row), true, nil
}

// autoscaleLoop evaluates the auto-scaler when it is on and an evaluation is due, until the server
// closes. Every backend runs it; ClaimEvaluation lets one of them act per interval.
func (s *Server) autoscaleLoop() {
	defer s.background.Done()
	t := time.NewTicker(autoscaleTick)
	defer t.Stop()
	for {
		select {
		case <-s.base.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.base, autoscaleTick)
		if err := s.autoscaleOnce(ctx, time.Now()); err != nil && s.base.Err() == nil {
			s.log.Warn("auto-scaler evaluation failed; it tries again next interval", "err", err)
		}
		cancel()
	}
}

// autoscaleOnce evaluates the auto-scaler at now if it is on and due, applies its decision, and
// records it with its inputs.
func (s *Server) autoscaleOnce(ctx context.Context, now time.Time) error {
	settings, _, err := s.CurrentAutoscale(ctx)
	if err != nil || !settings.Enabled {
		return err
	}
	if ok, err := s.poolDB.ClaimEvaluation(ctx, now, settings.Interval); err != nil || !ok {
		return err
	}
	in, err := s.autoscaleInput(ctx, now, settings)
	if err != nil {
		return err
	}
	d := autoscale.Decide(settings, in)
	applied := d.To
	if d.Action != autoscale.Hold {
		if applied, err = s.resize(ctx, now, d.To); err != nil {
			return fmt.Errorf("apply %s to %d nodes: %w", d.Action, d.To, err)
		}
	}
	ev := database.PoolEvent{CreatedAt: now, Action: string(d.Action), From: d.From, To: applied, MissRate: in.MissRate,
		Lookups: int64(in.Lookups), Reason: d.Reason}
	s.log.Info("auto-scaler", "action", d.Action, "from", d.From, "to", applied, "miss_rate", in.MissRate, "lookups", in.Lookups, "reason", d.Reason)
	if err := s.poolDB.InsertPoolEvent(ctx, ev); err != nil {
		return err
	}
	_, err = s.poolDB.PrunePoolEvents(ctx, now.Add(-poolEventRetention))
	return err
}

// autoscaleInput gathers what the scaler decides on: the pool's nodes, its miss rate over the last
// interval (all nodes' cache_stats rows), the time of the last change of the active set, and the
// miss rates its recorded decisions measured at each size.
func (s *Server) autoscaleInput(ctx context.Context, now time.Time, settings autoscale.Settings) (autoscale.Input, error) {
	in := autoscale.Input{Now: now}
	nodes, err := s.poolDB.Nodes(ctx)
	if err != nil {
		return in, err
	}
	for _, n := range nodes {
		if n.Alive(s.cfg.NodeTimeout) {
			in.Alive++
			if n.State == database.NodeActive {
				in.Active++
			}
		}
	}
	rows, err := s.poolDB.StatsSince(ctx, now.Add(-settings.Interval))
	if err != nil {
		return in, err
	}
	var misses int64
	for _, r := range rows {
		in.Lookups += uint64(r.HitCount + r.MissCount)
		misses += r.MissCount
	}
	if in.Lookups > 0 {
		in.MissRate = float64(misses) / float64(in.Lookups)
	}
	events, err := s.poolDB.PoolEvents(ctx, now.Add(-max(settings.CoolDown, autoscale.Memory(settings))), 1000)
	if err != nil {
		return in, err
	}
	for _, e := range events { // newest first
		if e.From != e.To && in.LastChange.IsZero() {
			in.LastChange = e.CreatedAt
		}
		// Every decision recorded the miss rate measured with its From nodes active.
		switch autoscale.Action(e.Action) {
		case autoscale.Hold, autoscale.Grow, autoscale.Shrink:
			in.Recent = append(in.Recent, autoscale.Observation{At: e.CreatedAt, Nodes: e.From, MissRate: e.MissRate, Lookups: uint64(max(e.Lookups, 0))})
		}
	}
	return in, nil
}

// resize makes to nodes active, by activating alive standby nodes (lowest id first) or standing by
// active ones (highest id first), and returns the active count reached.
func (s *Server) resize(ctx context.Context, now time.Time, to int) (int, error) {
	nodes, err := s.poolDB.Nodes(ctx)
	if err != nil {
		return 0, err
	}
	var active, standby []database.Node
	for _, n := range nodes {
		if !n.Alive(s.cfg.NodeTimeout) {
			continue
		}
		if n.State == database.NodeActive {
			active = append(active, n)
		} else {
			standby = append(standby, n)
		}
	}
	for len(active) < to && len(standby) > 0 {
		n := standby[0]
		if err := s.poolDB.SetNodeState(ctx, n.ID, database.NodeActive); err != nil {
			return len(active), err
		}
		active, standby = append(active, n), standby[1:]
	}
	for len(active) > to && len(active) > 1 {
		n := active[len(active)-1]
		if err := s.poolDB.SetNodeState(ctx, n.ID, database.NodeStandby); err != nil {
			return len(active), err
		}
		active = active[:len(active)-1]
	}
	// Follow the change at once rather than at the next sync.
	if err := s.SyncPool(ctx); err != nil {
		s.log.Warn("resized the pool, but could not re-read it", "err", err)
	}
	return len(active), nil
}

// ClearCache empties the cache: the nodes the backend routes to, and every other live node of the
// pool's table (standby ones), so that a clear or a delete-all leaves no image's bytes in any
// node's memory. A standby node's copies could never be served stale (object names are never
// reused) but would hold deleted images' memory until evicted. The routed nodes' failure is the
// error; a standby node that cannot be cleared is logged.
func (s *Server) ClearCache(ctx context.Context) error {
	err := s.cache.Clear(ctx)
	if s.pool == nil || s.poolDB == nil {
		return err
	}
	nodes, nerr := s.poolDB.Nodes(ctx)
	if nerr != nil {
		s.log.Warn("cannot list the standby memcache nodes to clear them", "err", nerr)
		return err
	}
	routed := map[int64]bool{}
	for _, m := range s.pool.Members() {
		routed[m.ID] = true
	}
	for _, n := range nodes {
		if routed[n.ID] || !n.Alive(s.cfg.NodeTimeout) {
			continue
		}
		c, cerr := client.New(n.Address, client.Options{Secret: s.cfg.MemcacheSecret})
		if cerr == nil {
			cerr = c.Clear(ctx)
			c.Close()
		}
		if cerr != nil {
			s.log.Warn("cannot clear a standby memcache node; its deleted images leave its memory at eviction", "node", n.ID, "url", n.Address, "err", cerr)
		}
	}
	return err
}
