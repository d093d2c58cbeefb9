package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Node states: the backends route to active nodes only; a standby node runs, registered, unused.
const (
	NodeActive  = "active"
	NodeStandby = "standby"
)

// Node is one row of memcache_nodes.
type Node struct {
	ID           int64
	Address      string // the base URL backends reach the node at
	State        string // NodeActive or NodeStandby
	CapacityMB   int
	RegisteredAt time.Time
	LastSeen     time.Time
	// Age is how long ago the node last heartbeat, by the database's clock, which also wrote LastSeen:
	// liveness must not depend on a backend's clock agreeing with a node's.
	Age time.Duration
}

// Alive reports whether the node heartbeat within timeout.
func (n Node) Alive(timeout time.Duration) bool { return n.Age <= timeout }

// nodeColumns end with the node's age in milliseconds by the database's clock.
func (db *DB) nodeColumns() string {
	age := "CAST((julianday('now') - julianday(last_seen)) * 86400000 AS INTEGER)"
	if db.dialect == MySQL {
		age = "TIMESTAMPDIFF(MICROSECOND, last_seen, UTC_TIMESTAMP(6)) DIV 1000"
	}
	return "id, address, state, capacity_mb, registered_at, last_seen, " + age
}

// dbNow is the database's current time as a column value, in the form the dialect stores times.
func (db *DB) dbNow() string {
	if db.dialect == MySQL {
		return "UTC_TIMESTAMP(6)"
	}
	return "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
}

func scanNode(row interface{ Scan(...any) error }) (Node, error) {
	var n Node
	var ageMS int64
	err := row.Scan(&n.ID, &n.Address, &n.State, &n.CapacityMB, scanTime{&n.RegisteredAt}, scanTime{&n.LastSeen}, &ageMS)
	n.Age = time.Duration(ageMS) * time.Millisecond
	return n, err
}

// RegisterNode records a node starting at address: a new row in state, or the node's existing row
// (a restart), which keeps the state chosen for it, with new registration and heartbeat times.
func (db *DB) RegisterNode(ctx context.Context, address string, capacityMB int, state string) (Node, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if state != NodeActive && state != NodeStandby {
		return Node{}, fmt.Errorf("register node %s: unknown state %q", address, state)
	}
	now := db.dbNow()
	var n Node
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE memcache_nodes SET capacity_mb = ?, registered_at = "+now+", last_seen = "+now+" WHERE address = ?",
			capacityMB, address)
		if err != nil {
			return err
		}
		if changed, err := res.RowsAffected(); err != nil {
			return err
		} else if changed == 0 {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO memcache_nodes (address, state, capacity_mb, registered_at, last_seen) VALUES (?, ?, ?, "+now+", "+now+")",
				address, state, capacityMB); err != nil {
				return err
			}
		}
		n, err = scanNode(tx.QueryRowContext(ctx, "SELECT "+db.nodeColumns()+" FROM memcache_nodes WHERE address = ?", address))
		return err
	})
	if err != nil {
		return Node{}, fmt.Errorf("register node %s: %w", address, err)
	}
	return n, nil
}

// Heartbeat records that node id is alive now, with its capacity.
func (db *DB) Heartbeat(ctx context.Context, id int64, capacityMB int) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.exec(ctx, "UPDATE memcache_nodes SET last_seen = "+db.dbNow()+", capacity_mb = ? WHERE id = ?", capacityMB, id)
	if err == nil {
		err = mustChange(res, id)
	}
	if err != nil {
		return fmt.Errorf("heartbeat of node %d: %w", id, err)
	}
	return nil
}

// LeaveNode marks node id as gone at once, as a stopping node does, rather than after its heartbeats
// time out.
func (db *DB) LeaveNode(ctx context.Context, id int64) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if _, err := db.exec(ctx, "UPDATE memcache_nodes SET last_seen = ? WHERE id = ?", db.timeArg(time.Unix(0, 0)), id); err != nil {
		return fmt.Errorf("node %d leaves: %w", id, err)
	}
	return nil
}

// SetNodeState sets node id's state.
func (db *DB) SetNodeState(ctx context.Context, id int64, state string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if state != NodeActive && state != NodeStandby {
		return fmt.Errorf("set node %d: unknown state %q", id, state)
	}
	res, err := db.exec(ctx, "UPDATE memcache_nodes SET state = ? WHERE id = ?", state, id)
	if err == nil {
		err = mustChange(res, id)
	}
	if err != nil {
		return fmt.Errorf("set node %d %s: %w", id, state, err)
	}
	return nil
}

// mustChange turns an update that matched no row into ErrNotFound.
func mustChange(res sql.Result, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("node %d: %w", id, ErrNotFound)
	}
	return nil
}

// Nodes returns every registered node, by id.
func (db *DB) Nodes(ctx context.Context) ([]Node, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.db.QueryContext(ctx, "SELECT "+db.nodeColumns()+" FROM memcache_nodes ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("nodes: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	return out, nil
}

// PoolSettings is one row of pool_settings: the auto-scaler's settings, the newest in force.
type PoolSettings struct {
	ID                     int64
	Enabled                bool
	Interval, Cooldown     time.Duration
	GrowAbove, ShrinkBelow float64 // miss rates
	GrowRatio, ShrinkRatio float64
	MinNodes, MaxNodes     int
	CreatedAt              time.Time
}

// LatestPoolSettings returns the newest row, or an error wrapping ErrNotFound.
func (db *DB) LatestPoolSettings(ctx context.Context) (PoolSettings, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var p PoolSettings
	var enabled int
	var interval, cooldown int64
	err := db.db.QueryRowContext(ctx, "SELECT id, enabled, interval_ms, grow_above, shrink_below, grow_ratio, shrink_ratio,"+
		" cooldown_ms, min_nodes, max_nodes, created_at FROM pool_settings ORDER BY id DESC LIMIT 1").
		Scan(&p.ID, &enabled, &interval, &p.GrowAbove, &p.ShrinkBelow, &p.GrowRatio, &p.ShrinkRatio, &cooldown,
			&p.MinNodes, &p.MaxNodes, scanTime{&p.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return PoolSettings{}, fmt.Errorf("latest pool settings: %w", err)
	}
	p.Enabled, p.Interval, p.Cooldown = enabled != 0, time.Duration(interval)*time.Millisecond, time.Duration(cooldown)*time.Millisecond
	return p, nil
}

// InsertPoolSettings appends p (its ID is ignored) and returns it as stored.
func (db *DB) InsertPoolSettings(ctx context.Context, p PoolSettings) (PoolSettings, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	p.CreatedAt = nowOr(p.CreatedAt)
	enabled := 0
	if p.Enabled {
		enabled = 1
	}
	res, err := db.exec(ctx, "INSERT INTO pool_settings (enabled, interval_ms, grow_above, shrink_below, grow_ratio, shrink_ratio,"+
		" cooldown_ms, min_nodes, max_nodes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		enabled, p.Interval.Milliseconds(), p.GrowAbove, p.ShrinkBelow, p.GrowRatio, p.ShrinkRatio, p.Cooldown.Milliseconds(),
		p.MinNodes, p.MaxNodes, db.timeArg(p.CreatedAt))
	if err == nil {
		p.ID, err = res.LastInsertId()
	}
	if err != nil {
		return PoolSettings{}, fmt.Errorf("insert pool settings: %w", err)
	}
	return p, nil
}

// PoolEvent is one row of pool_events: a decision about the pool's size and its inputs.
type PoolEvent struct {
	ID        int64
	CreatedAt time.Time
	Action    string // grow, shrink, hold, activate, standby
	From, To  int    // active nodes before and after
	MissRate  float64
	Lookups   int64
	Reason    string
}

// InsertPoolEvent appends e (its ID is ignored); CreatedAt zero means now.
func (db *DB) InsertPoolEvent(ctx context.Context, e PoolEvent) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if len(e.Reason) > 255 {
		e.Reason = e.Reason[:255]
	}
	_, err := db.exec(ctx, "INSERT INTO pool_events (created_at, action, from_nodes, to_nodes, miss_rate, lookups, reason)"+
		" VALUES (?, ?, ?, ?, ?, ?, ?)", db.timeArg(nowOr(e.CreatedAt)), e.Action, e.From, e.To, e.MissRate, e.Lookups, e.Reason)
	if err != nil {
		return fmt.Errorf("insert pool event: %w", err)
	}
	return nil
}

// PoolEvents returns the events created at or after since, newest first, at most limit of them.
func (db *DB) PoolEvents(ctx context.Context, since time.Time, limit int) ([]PoolEvent, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.db.QueryContext(ctx, "SELECT id, created_at, action, from_nodes, to_nodes, miss_rate, lookups, reason"+
		" FROM pool_events WHERE created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?", db.timeArg(since), limit)
	if err != nil {
		return nil, fmt.Errorf("pool events: %w", err)
	}
	defer rows.Close()
	var out []PoolEvent
	for rows.Next() {
		var e PoolEvent
		if err := rows.Scan(&e.ID, scanTime{&e.CreatedAt}, &e.Action, &e.From, &e.To, &e.MissRate, &e.Lookups, &e.Reason); err != nil {
			return nil, fmt.Errorf("pool events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pool events: %w", err)
	}
	return out, nil
}

// ClaimEvaluation reports whether this caller may evaluate the auto-scaler now: true for exactly one
// of several backends calling it in the same interval, however they race, because the claim is one
// conditional update of a single row.
func (db *DB) ClaimEvaluation(ctx context.Context, now time.Time, interval time.Duration) (bool, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	insert := "INSERT INTO pool_lock (id, evaluated_at) VALUES (1, ?) ON CONFLICT (id) DO NOTHING"
	if db.dialect == MySQL {
		insert = "INSERT IGNORE INTO pool_lock (id, evaluated_at) VALUES (1, ?)"
	}
	if _, err := db.exec(ctx, insert, db.timeArg(time.Unix(0, 0))); err != nil {
		return false, fmt.Errorf("claim evaluation: %w", err)
	}
	res, err := db.exec(ctx, "UPDATE pool_lock SET evaluated_at = ? WHERE id = 1 AND evaluated_at <= ?",
		db.timeArg(now), db.timeArg(now.Add(-interval)))
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return false, fmt.Errorf("claim evaluation: %w", err)
	}
	return n == 1, nil
}

// PrunePoolEvents deletes the events created before before and returns how many.
func (db *DB) PrunePoolEvents(ctx context.Context, before time.Time) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.exec(ctx, "DELETE FROM pool_events WHERE created_at < ?", db.timeArg(before))
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return 0, fmt.Errorf("prune pool events: %w", err)
	}
	return n, nil
}
