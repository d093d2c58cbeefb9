package app

import (
	"net"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"

	"imgcache/memcache/route"
)

// admit refuses a state-changing request that a page of another origin sent through a browser: its
// Origin is not this server's, or the browser says it is cross-site. API clients that send no Origin
// (curl, loadgen) are not affected.
func (s *Server) admit(rc *fasthttp.RequestCtx, _ *route.Route) error {
	if host := string(rc.Host()); !s.hostAllowed(host) {
		return errorf(ErrWrongHost, "This server does not answer to the host name %q; see the -public-host setting.", ShownKey(host))
	}
	switch string(rc.Method()) {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	h := &rc.Request.Header
	if string(h.Peek("Sec-Fetch-Site")) == "cross-site" {
		return errorf(ErrForbidden, "a page of another site cannot send this request")
	}
	if origin := string(h.Peek("Origin")); origin != "" && !sameOrigin(origin, string(rc.Host())) {
		return errorf(ErrForbidden, "a page of another origin (%s) cannot send this request", origin)
	}
	return nil
}

// hostAllowed reports whether the Host header names this server: an IP address, localhost, or one of
// the configured public host names. Any other name is refused, so that a page of another site whose
// name the attacker re-points at this machine (DNS rebinding) is not same-origin with it: its
// requests carry its own name. An empty Host comes from no browser.
func (s *Server) hostAllowed(host string) bool {
	if host == "" {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.ToLower(strings.TrimSuffix(strings.Trim(name, "[]"), "."))
	if name == "localhost" || net.ParseIP(name) != nil {
		return true
	}
	for _, p := range s.cfg.PublicHosts {
		if strings.EqualFold(strings.TrimSuffix(p, "."), name) {
			return true
		}
	}
	return false
}

// sameOrigin reports whether origin (scheme://host[:port]) names host, the request's Host header. The
// scheme is not compared: behind a TLS proxy the browser's origin is https while the backend sees
// http, and no other site can take our host name.
func sameOrigin(origin, host string) bool {
	_, rest, ok := strings.Cut(origin, "://")
	return ok && host != "" && strings.EqualFold(rest, host)
}
