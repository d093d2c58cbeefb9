package loadgen

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"imgcache/app/api"
)

// Paths of the backend's pool page and of its node form.
const (
	PoolPath     = "/pool"
	PoolNodePath = "/pool/node"
)

// Node states of the pool's table, as the pool page shows them and its form takes them.
const (
	NodeActive  = "active"
	NodeStandby = "standby"
)

// PoolNode is one memcache node as a backend's pool page lists it.
type PoolNode struct {
	ID      int64
	Address string // the URL backends reach it at
	State   string // NodeActive or NodeStandby
	Alive   bool   // heartbeating: the page does not mark it "(down)"
}

// PoolView is one backend's view of the memcache pool: the nodes of the table, and how many of them
// that backend routes to now.
type PoolView struct {
	Nodes  []PoolNode
	Routed int
}

// Active returns the number of live active nodes.
func (p PoolView) Active() int {
	n := 0
	for _, nd := range p.Nodes {
		if nd.State == NodeActive && nd.Alive {
			n++
		}
	}
	return n
}

// The pool page is HTML for people; the backend has no JSON form of it, so loadgen reads the two
// things it needs from the page's table and sentence. ParsePool fails loudly when they are not
// found, so a change of the template shows as an error, never as an empty pool.
var (
	poolRoutedRE = regexp.MustCompile(`(\d+) nodes? (?:is|are) routed to now`)
	poolRowRE    = regexp.MustCompile(`<tr><td>(\d+)</td><td>([^<]*)</td><td>(active|standby)( \(down\))?`)
)

// ParsePool reads a backend's pool page.
func ParsePool(page []byte) (PoolView, error) {
	m := poolRoutedRE.FindSubmatch(page)
	if m == nil {
		return PoolView{}, fmt.Errorf("pool page: no \"routed to now\" sentence (a backend over a plain cache?): %w", ErrService)
	}
	var p PoolView
	p.Routed, _ = strconv.Atoi(string(m[1]))
	for _, r := range poolRowRE.FindAllSubmatch(page, -1) {
		id, err := strconv.ParseInt(string(r[1]), 10, 64)
		if err != nil {
			return PoolView{}, fmt.Errorf("pool page: node id %q: %w", r[1], ErrService)
		}
		p.Nodes = append(p.Nodes, PoolNode{ID: id, Address: html.UnescapeString(string(r[2])), State: string(r[3]), Alive: len(r[4]) == 0})
	}
	return p, nil
}

// Pool reads the backend's view of the memcache pool from its pool page.
func (c *Control) Pool(ctx context.Context) (PoolView, error) {
	code, body, err := c.do(ctx, http.MethodGet, c.BackendURL+PoolPath, nil, nil)
	if err != nil {
		return PoolView{}, fmt.Errorf("pool page of %s: %w", c.BackendURL, err)
	}
	if code != http.StatusOK {
		return PoolView{}, fmt.Errorf("pool page of %s: status %d %q: %w", c.BackendURL, code, snippet(body), ErrService)
	}
	return ParsePool(body)
}

// SetNodeState activates a memcache node or stands it by through the backend's pool form, the
// path a user takes; the backend follows at once, the others within a couple of seconds.
func (c *Control) SetNodeState(ctx context.Context, id int64, state string) error {
	token := formToken()
	form := url.Values{"node": {strconv.FormatInt(id, 10)}, "state": {state}, api.FormTokenField: {token}}
	code, body, err := c.do(ctx, http.MethodPost, c.BackendURL+PoolNodePath,
		strings.NewReader(form.Encode()), formHeader(token, "application/x-www-form-urlencoded"))
	if err != nil {
		return fmt.Errorf("set node %d %s: %w", id, state, err)
	}
	if code >= 400 {
		return fmt.Errorf("set node %d %s: status %d %q: %w", id, state, code, snippet(body), ErrService)
	}
	return nil
}

// waitPool waits until the pool's table has every node, the first Nodes of them active, and every
// backend routes to all the active ones: backends follow the table about once a second.
func (s *Services) waitPool(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	want := s.cfg.Nodes + s.cfg.Standby
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := s.poolReady(ctx, want)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("memcache pool not settled after %v: %w", s.cfg.StartTimeout, err)
		case <-tick.C:
		}
	}
}

// poolReady checks every backend's view of the pool once.
func (s *Services) poolReady(ctx context.Context, want int) error {
	for _, u := range s.backendURLs {
		p, err := (&Control{BackendURL: u}).Pool(ctx)
		if err != nil {
			return err
		}
		if len(p.Nodes) != want || p.Active() != s.cfg.Nodes || p.Routed != s.cfg.Nodes {
			return fmt.Errorf("backend %s: %d nodes registered, %d active, %d routed to; want %d, %d and %d: %w",
				u, len(p.Nodes), p.Active(), p.Routed, want, s.cfg.Nodes, s.cfg.Nodes, ErrService)
		}
	}
	return nil
}
