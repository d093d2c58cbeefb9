package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"imgcache/app/api"
)

// PoolView is one backend's view of the memcache pool (its GET /api/pool): the nodes of the table,
// and how many of them that backend routes to now.
type PoolView api.Pool

// Active returns the number of live active nodes.
func (p PoolView) Active() int {
	n := 0
	for _, nd := range p.Nodes {
		if nd.State == api.NodeActive && nd.Alive {
			n++
		}
	}
	return n
}

// Pool reads the backend's view of the memcache pool.
func (c *Control) Pool(ctx context.Context) (PoolView, error) {
	code, body, err := c.do(ctx, http.MethodGet, c.BackendURL+api.PathPool, nil, nil)
	if err != nil {
		return PoolView{}, fmt.Errorf("pool of %s: %w", c.BackendURL, err)
	}
	if code != http.StatusOK {
		return PoolView{}, fmt.Errorf("pool of %s: status %d %q: %w", c.BackendURL, code, snippet(body), ErrService)
	}
	var p PoolView
	if err := json.Unmarshal(body, &p); err != nil {
		return PoolView{}, fmt.Errorf("pool of %s: %w", c.BackendURL, err)
	}
	return p, nil
}

// SetNodeState activates a memcache node or stands it by through the backend's pool form, the
// path a user takes; the backend follows at once, the others within a couple of seconds.
func (c *Control) SetNodeState(ctx context.Context, id int64, state string) error {
	token := formToken()
	form := url.Values{"node": {strconv.FormatInt(id, 10)}, "state": {state}, api.FormTokenField: {token}}
	code, body, err := c.do(ctx, http.MethodPost, c.BackendURL+api.PathPoolNode,
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
