// Package proxy models a remote service's network in front of a local one: a TCP proxy
// (Shopify's toxiproxy, as a library) that delays each response's first byte and may cap its
// bandwidth, so that a loopback S3 server or database costs what a remote one would.
package proxy

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// ErrBadConfig reports a model that cannot be built.
var ErrBadConfig = errors.New("bad network model")

// Model is what the proxy adds to the responses of the service behind it. The zero value adds
// nothing.
type Model struct {
	// Latency delays every chunk of a response by this much after the service sent it: with the
	// connection kept open, each response's first byte arrives Latency late, and the bytes after
	// it follow at the service's own pace, shifted alike (toxiproxy's latency toxic, on the
	// downstream direction). Whole milliseconds: toxiproxy's unit.
	Latency time.Duration
	// Bandwidth caps the responses' rate in bytes a second, per connection; 0 means no cap.
	// toxiproxy counts in KB/s, so it is rounded to whole KB/s, at least 1.
	Bandwidth int64
}

// Zero reports whether the model adds nothing.
func (m Model) Zero() bool { return m.Latency == 0 && m.Bandwidth == 0 }

// String describes the model for reports: "20ms before each response's first byte, 100 MB/s".
func (m Model) String() string {
	var parts []string
	if m.Latency > 0 {
		parts = append(parts, fmt.Sprintf("%v before each response's first byte", m.Latency))
	}
	if m.Bandwidth > 0 {
		parts = append(parts, fmt.Sprintf("%.1f MB/s per connection", float64(m.Bandwidth)/1e6))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Validate refuses a model the proxy cannot apply.
func (m Model) Validate() error {
	switch {
	case m.Latency < 0 || m.Bandwidth < 0:
		return fmt.Errorf("latency %v, bandwidth %d B/s: negative: %w", m.Latency, m.Bandwidth, ErrBadConfig)
	case m.Latency%time.Millisecond != 0:
		return fmt.Errorf("latency %v: whole milliseconds only: %w", m.Latency, ErrBadConfig)
	case m.Bandwidth > 0 && m.Bandwidth < 1000:
		return fmt.Errorf("bandwidth %d B/s: at least 1000: %w", m.Bandwidth, ErrBadConfig)
	}
	return nil
}

// Proxy is a running proxy. Close stops it and its connections.
type Proxy struct {
	name  string
	p     *toxiproxy.Proxy
	model Model
	once  sync.Once
}

// Start listens on a free loopback port and forwards every connection to upstream
// (HOST:PORT) with the model applied to what upstream sends back.
func Start(name, upstream string, m Model) (*Proxy, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	// A server of its own, with its own registry and a silent logger: loadgen serves no
	// toxiproxy API, it only uses the proxies.
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("proxy %s to %s: %w", name, upstream, err)
	}
	px := &Proxy{name: name, p: p, model: m}
	if m.Latency > 0 {
		if err := px.add("latency", fmt.Sprintf(`{"latency":%d}`, m.Latency.Milliseconds())); err != nil {
			px.Close()
			return nil, err
		}
	}
	if m.Bandwidth > 0 {
		if err := px.add("bandwidth", fmt.Sprintf(`{"rate":%d}`, max(m.Bandwidth/1000, 1))); err != nil {
			px.Close()
			return nil, err
		}
	}
	return px, nil
}

func (px *Proxy) add(kind, attrs string) error {
	js := fmt.Sprintf(`{"name":%q,"type":%q,"stream":"downstream","toxicity":1,"attributes":%s}`, px.name+"-"+kind, kind, attrs)
	if _, err := px.p.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
		return fmt.Errorf("proxy %s: %s: %w", px.name, kind, err)
	}
	return nil
}

// Addr is the proxy's HOST:PORT, for the clients of the service behind it.
func (px *Proxy) Addr() string { return px.p.Listen }

// Model is what the proxy applies.
func (px *Proxy) Model() Model { return px.model }

// Close stops the proxy and closes its connections. Closing twice is safe.
func (px *Proxy) Close() error {
	px.once.Do(px.p.Stop)
	return nil
}
