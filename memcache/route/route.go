// Package route serves an imgcache HTTP service from one table of routes, which decides dispatch,
// the Allow header of a 405, each request's metrics label and (for pages) the navigation bar; it
// turns a panic in a handler into a 500 and gives every request a context of its own.
package route

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// Handler serves one route. ctx is the request's context, cancelled when the handler returns or the
// server gives up waiting at shutdown; rc is the request itself and is valid only until the handler
// returns, so it must never be passed on as a context.Context (fasthttp reuses it).
type Handler func(ctx context.Context, rc *fasthttp.RequestCtx) error

// Route is one entry of a table.
type Route struct {
	Path    string   // the path, or with Prefix every path that starts with it
	Prefix  bool     // match paths starting with Path
	Methods []string // allowed methods; GET allows HEAD too
	// Original matches against the path as sent rather than fasthttp's cleaned one, for a route
	// whose tail is data (a key that may hold "/" or "..").
	Original bool
	// Nav labels the route's link in a navigation bar; "" leaves it out.
	Nav    string
	Handle Handler
}

// allows reports whether m is allowed on r.
func (r *Route) allows(m []byte) bool {
	for _, want := range r.Methods {
		if string(m) == want || want == http.MethodGet && string(m) == http.MethodHead {
			return true
		}
	}
	return false
}

// allowHeader is the Allow header of a 405 on r.
func (r *Route) allowHeader() string {
	ms := slices.Clone(r.Methods)
	if slices.Contains(ms, http.MethodGet) && !slices.Contains(ms, http.MethodHead) {
		ms = append(ms, http.MethodHead)
	}
	slices.Sort(ms)
	return strings.Join(ms, ", ")
}

// Labels of requests that match no route, for the metrics: a caller's path never becomes a label.
const (
	LabelNotFound = "other"
)

// Errors the table hands to its ErrorFunc, for the server's status table to map.
var (
	// ErrNoRoute: no route matches the path (404).
	ErrNoRoute = errors.New("no such route")
	// ErrMethod: the route does not take the method (405); the Allow header is already set.
	ErrMethod = errors.New("method not allowed")
	// ErrPanic: the handler panicked (500); the stack is in the log.
	ErrPanic = errors.New("handler panicked")
)

// ErrorFunc answers err for the request rc in the server's contract: the JSON envelope or a page.
type ErrorFunc func(rc *fasthttp.RequestCtx, err error)

// Table dispatches requests to routes. Build it with New; it is safe for concurrent use.
type Table struct {
	guard    func(rc *fasthttp.RequestCtx, r *Route) error
	routes   []Route
	exact    map[string]int // path -> index, for routes matched on the cleaned path
	prefixes []int          // indexes of prefix or Original routes, in table order
	base     context.Context
	onError  ErrorFunc
	log      *slog.Logger
	metrics  *Metrics
}

// Config is what a Table needs besides its routes.
type Config struct {
	// Base is the parent of every request's context; cancelling it cancels requests still running.
	Base    context.Context
	OnError ErrorFunc
	Log     *slog.Logger
	Metrics *Metrics // nil: no request metrics
	// Guard, if set, admits or refuses a request after its route is found and before its method is
	// checked: authentication and cross-site checks, counted in the metrics under the route.
	Guard func(rc *fasthttp.RequestCtx, r *Route) error
}

// New builds a table. Routes are tried in order among the prefix routes; exact paths first.
func New(cfg Config, routes []Route) *Table {
	t := &Table{routes: routes, exact: map[string]int{}, base: cfg.Base, onError: cfg.OnError, log: cfg.Log,
		metrics: cfg.Metrics, guard: cfg.Guard}
	if t.base == nil {
		t.base = context.Background()
	}
	if t.log == nil {
		t.log = slog.Default()
	}
	for i, r := range routes {
		if r.Prefix || r.Original {
			t.prefixes = append(t.prefixes, i)
			continue
		}
		if _, dup := t.exact[r.Path]; dup {
			panic("route: duplicate path " + r.Path)
		}
		t.exact[r.Path] = i
	}
	return t
}

// Routes returns the table's routes, in order.
func (t *Table) Routes() []Route { return slices.Clone(t.routes) }

// Match returns the route of rc's path, or nil.
func (t *Table) Match(rc *fasthttp.RequestCtx) *Route {
	path := rc.Path()
	for _, i := range t.prefixes {
		r := &t.routes[i]
		p := path
		if r.Original {
			p = rc.URI().PathOriginal()
		}
		if r.Prefix && strings.HasPrefix(string(p), r.Path) || !r.Prefix && string(p) == r.Path {
			return r
		}
	}
	if i, ok := t.exact[string(path)]; ok {
		return &t.routes[i]
	}
	return nil
}

// Serve is the fasthttp handler of the table.
func (t *Table) Serve(rc *fasthttp.RequestCtx) {
	r := t.Match(rc)
	label := LabelNotFound
	if r != nil {
		label = r.Path
	}
	if t.metrics != nil {
		defer t.metrics.observe(rc, label, time.Now())
	}
	defer t.recover(rc)
	if t.guard != nil {
		if err := t.guard(rc, r); err != nil {
			t.onError(rc, err)
			return
		}
	}
	switch {
	case r == nil:
		t.onError(rc, fmt.Errorf("%w: %q", ErrNoRoute, rc.Path()))
	case !r.allows(rc.Method()):
		rc.Response.Header.Set("Allow", r.allowHeader())
		t.onError(rc, &MethodError{Method: string(rc.Method()), Path: string(rc.Path()), Allow: r.allowHeader()})
	default:
		ctx, done := context.WithCancel(t.base)
		defer done()
		if err := r.Handle(ctx, rc); err != nil {
			t.onError(rc, err)
		}
	}
}

// recover answers a panicking handler with a 500, logging the stack, so one bad request cannot take
// the process down.
func (t *Table) recover(rc *fasthttp.RequestCtx) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	t.log.Error("handler panicked", "method", string(rc.Method()), "path", string(rc.Path()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	rc.Response.Reset()
	t.onError(rc, fmt.Errorf("%w: %v", ErrPanic, v))
}

// MethodError is a request with a method its route does not take.
type MethodError struct{ Method, Path, Allow string }

func (e *MethodError) Error() string {
	return fmt.Sprintf("%s is not allowed on %s; use %s", e.Method, e.Path, strings.ReplaceAll(e.Allow, ", ", " or "))
}

// Is makes a MethodError an ErrMethod.
func (e *MethodError) Is(target error) bool { return target == ErrMethod }
