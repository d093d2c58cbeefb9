// Package fasthttp is the part of github.com/valyala/fasthttp that the ctxcheck tests need.
package fasthttp

import "time"

type RequestCtx struct{}

func (*RequestCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*RequestCtx) Done() <-chan struct{}       { return nil }
func (*RequestCtx) Err() error                  { return nil }
func (*RequestCtx) Value(any) any               { return nil }
