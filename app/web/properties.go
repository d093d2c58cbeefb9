package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"imgcache/app"
	"imgcache/database"
	"imgcache/memcache/wire"
)

// policyOption is a choice of the policy form field: Value is what the form posts.
type policyOption struct{ Value, Label string }

// policyOptions are the policy form's choices, one per policy the memcache offers.
func policyOptions() []policyOption {
	var opts []policyOption
	for _, p := range wire.Policies() {
		opts = append(opts, policyOption{p.Short, p.Label})
	}
	return opts
}

// policyChoices names the policies for a message: "LRU or Random", or with the stored names too
// when long is set.
func policyChoices(long bool) string {
	var names []string
	for _, p := range wire.Policies() {
		n := p.Short
		if long && p.Name != p.Short {
			n += " (" + p.Name + ")"
		}
		names = append(names, n)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

type propertiesPage struct {
	chrome
	Stored   bool // a cache_properties row exists; otherwise Current holds the memcache's defaults
	Current  database.CacheProperties
	LiveOK   bool
	Live     wire.Stats
	Capacity string // the form's values
	Policy   string
	MaxMB    int
	Options  []policyOption
}

// Flash messages of the properties page, chosen by a query parameter after a redirect: fixed texts, so
// the URL cannot put words on the page.
var propertiesFlash = map[string]string{
	"saved=1":   "Saved. The cache applied the new settings.",
	"cleared=1": "The cache was cleared.",
}

// propertiesWarning are the outcomes that did not go all the way, shown as warnings.
var propertiesWarning = map[string]string{
	"saved=pending": "Saved, but the cache could not be told: it is unreachable. It reads the newest settings when it starts, so it will apply these when it restarts.",
}

func (s *Server) pageProperties(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if rc.IsPost() {
		return s.setProperties(ctx, rc)
	}
	p := &propertiesPage{}
	for _, param := range []string{"saved", "cleared"} {
		if v := rc.QueryArgs().Peek(param); v != nil {
			p.Flash = propertiesFlash[param+"="+string(v)]
			p.Warning = propertiesWarning[param+"="+string(v)]
		}
	}
	if err := s.loadProperties(ctx, p); err != nil {
		return err
	}
	s.render(rc, http.StatusOK, "properties", p)
	return nil
}

// loadProperties fills the page's current settings, and the form with them where it is empty.
func (s *Server) loadProperties(ctx context.Context, p *propertiesPage) error {
	p.Title, p.Active, p.MaxMB, p.Options = "Cache properties", pathProperties, s.cfg.MaxCapacityMB, policyOptions()
	cur, err := s.store.LatestCacheProperties(ctx)
	switch {
	case errors.Is(err, database.ErrNotFound):
		cur = database.CacheProperties{MaxCapacityMB: wire.DefaultCapacityMB, Policy: wire.DefaultPolicy}
	case err != nil:
		return s.DBError("read cache properties", err)
	default:
		p.Stored = true
	}
	p.Current = cur
	if p.Capacity == "" && p.Policy == "" {
		p.Capacity = strconv.Itoa(cur.MaxCapacityMB)
		if pol, err := wire.ParsePolicy(cur.Policy); err == nil {
			p.Policy = pol.Short
		}
	}
	p.Live, p.LiveOK = s.LiveStats(ctx)
	return nil
}

// parseProperties validates the form: a whole number of MB from 0 to max, and a known policy.
func parseProperties(capacity, policy string, max int) (int, wire.PolicyInfo, error) {
	var problems []string
	capacity, policy = strings.TrimSpace(capacity), strings.TrimSpace(policy)
	mb, err := strconv.Atoi(capacity)
	switch {
	case capacity == "":
		problems = append(problems, fmt.Sprintf("Enter a capacity: a whole number of MB from 0 to %d.", max))
	case errors.Is(err, strconv.ErrRange) || err == nil && (mb < 0 || mb > max):
		problems = append(problems, fmt.Sprintf("The capacity must be from 0 to %d MB; %q is out of range.", max, capacity))
	case err != nil:
		problems = append(problems, fmt.Sprintf("The capacity must be a whole number of MB from 0 to %d; %q is not.", max, capacity))
	}
	pol, err := wire.ParsePolicy(policy)
	switch {
	case policy == "":
		problems = append(problems, "Choose a replacement policy: "+policyChoices(false)+".")
	case err != nil:
		problems = append(problems, fmt.Sprintf("Unknown replacement policy %q: choose %s.", policy, policyChoices(true)))
	}
	if problems != nil {
		return 0, pol, errorf(app.ErrInvalid, "%s", strings.Join(problems, " "))
	}
	return mb, pol, nil
}

// setProperties writes a cache_properties row and asks the memcache to apply it. When the memcache is
// unreachable the row stays written: the memcache reads the newest row when it starts.
func (s *Server) setProperties(ctx context.Context, rc *fasthttp.RequestCtx) error {
	v, err := formValues(rc, "capacity", "policy", csrfField)
	if err != nil {
		return err
	}
	if err := checkForm(rc, v[csrfField]); err != nil {
		return err
	}
	mb, pol, err := parseProperties(v["capacity"], v["policy"], s.cfg.MaxCapacityMB)
	if err != nil {
		p := &propertiesPage{Capacity: app.ShownKey(v["capacity"]), Policy: app.ShownKey(v["policy"])}
		if err := s.loadProperties(ctx, p); err != nil {
			return err
		}
		code, msg := s.pageFailure(rc, err)
		p.Error = msg
		s.render(rc, code, "properties", p)
		return nil
	}
	if _, err := s.store.InsertCacheProperties(ctx, database.CacheProperties{MaxCapacityMB: mb, Policy: pol.Name}); err != nil {
		return s.DBError("write cache properties", err)
	}
	if err := s.cache.Refresh(ctx); err != nil {
		s.NoteCacheErr(err)
		s.log.Warn("cache properties saved but not applied: the memcache will read them when it starts", "capacity_mb", mb, "policy", pol.Name, "err", err)
		seeOther(rc, pathProperties+"?saved=pending")
		return nil
	}
	s.NoteCacheOK()
	seeOther(rc, pathProperties+"?saved=1")
	return nil
}

// pageClear asks to confirm clearing the cache (GET), then clears it (POST, with the form token). A POST
// without the confirmation page clears at once, as programs that drive the form expect (loadgen).
func (s *Server) pageClear(ctx context.Context, rc *fasthttp.RequestCtx) error {
	if !rc.IsPost() {
		p := &confirmPage{chrome: chrome{Title: "Clear the cache", Active: pathProperties},
			Question: "Remove every item from the cache?",
			Detail:   "The images stay stored; the next reads come from disk and fill the cache again.",
			Action:   pathClear, Confirm: "Clear cache", Cancel: pathProperties}
		if live, ok := s.LiveStats(ctx); ok {
			p.Question = fmt.Sprintf("Remove all %d %s (%s) from the cache?", live.Items, plural(live.Items, "item", "items"), app.HumanSize(live.Bytes))
		}
		s.render(rc, http.StatusOK, "confirm", p)
		return nil
	}
	v, err := formValues(rc, csrfField)
	if err != nil {
		return err
	}
	if err := checkForm(rc, v[csrfField]); err != nil {
		return err
	}
	if err := s.ClearCache(ctx); err != nil {
		s.NoteCacheErr(err)
		s.log.Warn("clear cache failed", "err", err)
		p := &propertiesPage{chrome: chrome{Error: "The cache is unreachable, so it was not cleared. Try again when it is back."}}
		if err := s.loadProperties(ctx, p); err != nil {
			return err
		}
		s.render(rc, http.StatusServiceUnavailable, "properties", p)
		return nil
	}
	s.NoteCacheOK()
	seeOther(rc, pathProperties+"?cleared=1")
	return nil
}
