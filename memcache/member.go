package memcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"imgcache/database"
)

// DefaultHeartbeat is how often a node tells the pool's table it is alive. Backends count a node
// silent for three heartbeats as down, and follow the table about as often.
const DefaultHeartbeat = time.Second

// member keeps the node in the memcache_nodes table: it registers at start (retrying while the
// database is unreachable), heartbeats, and leaves at Close, so backends stop routing to it at once.
type member struct {
	db       memberStore
	url      string
	state    string
	capacity func() int // MB, reported with each heartbeat
	interval time.Duration
	log      *slog.Logger

	id        atomic.Int64 // 0 until registered
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// memberStore is the part of the database a member needs.
type memberStore interface {
	RegisterNode(ctx context.Context, address string, capacityMB int, state string) (database.Node, error)
	Heartbeat(ctx context.Context, id int64, capacityMB int) error
	LeaveNode(ctx context.Context, id int64) error
}

var _ memberStore = (*lazyDB)(nil)

// startMember registers the node at once, so that backends can route to it as soon as it serves, and
// keeps it registered in the background.
func startMember(db memberStore, url, state string, capacity func() int, interval time.Duration, log *slog.Logger) *member {
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{db: db, url: url, state: state, capacity: capacity, interval: interval, log: log, cancel: cancel, done: make(chan struct{})}
	first := m.beat(ctx)
	go m.loop(ctx, first)
	return m
}

// ID is the node's id in the table, 0 until it has registered.
func (m *member) ID() int64 { return m.id.Load() }

func (m *member) loop(ctx context.Context, err error) {
	defer close(m.done)
	t := time.NewTicker(m.interval)
	defer t.Stop()
	failing := false
	for {
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			m.log.Error("cannot register or heartbeat in the pool's table; backends may not route here until it works", "url", m.url, "err", err)
			failing = true
		case err == nil && failing:
			m.log.Info("pool registration works again", "url", m.url, "node", m.ID())
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err = m.beat(ctx)
	}
}

// beat registers the node if it is not, or heartbeats; a row deleted by hand registers it again.
func (m *member) beat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.interval)
	defer cancel()
	if id := m.id.Load(); id != 0 {
		err := m.db.Heartbeat(ctx, id, m.capacity())
		if !errors.Is(err, database.ErrNotFound) {
			return err
		}
	}
	n, err := m.db.RegisterNode(ctx, m.url, m.capacity(), m.state)
	if err != nil {
		return err
	}
	if m.id.Swap(n.ID) != n.ID {
		m.log.Info("registered in the memcache pool", "node", n.ID, "url", m.url, "state", n.State)
	}
	return nil
}

// Close stops the heartbeats and marks the node gone. Safe to call twice.
func (m *member) Close() {
	m.closeOnce.Do(func() {
		m.cancel()
		<-m.done
		if id := m.id.Load(); id != 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := m.db.LeaveNode(ctx, id); err != nil {
				m.log.Warn("could not mark the node gone; backends drop it when its heartbeats stop", "node", id, "err", err)
			}
		}
	})
}

// advertiseURL is the URL backends reach the node at: advertise when given, else the bound address,
// which must then be a concrete one (a wildcard is no address to call).
func advertiseURL(advertise string, bound net.Addr) (string, error) {
	if advertise != "" {
		return advertise, nil
	}
	host, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		return "", fmt.Errorf("listening on %s, which is no address to call: give -advertise http://HOST:PORT, the URL backends reach this node at", bound)
	}
	return "http://" + net.JoinHostPort(host, port), nil
}
