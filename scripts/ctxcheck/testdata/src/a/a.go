package a

import (
	"context"

	"github.com/valyala/fasthttp"
)

func query(ctx context.Context, key string) error { return nil }
func many(ctxs ...context.Context)                {}
func takesAny(v any)                              {}
func takesRC(rc *fasthttp.RequestCtx)             {}

type job struct {
	ctx context.Context
	rc  *fasthttp.RequestCtx
}

func handler(rc *fasthttp.RequestCtx) {
	_ = job{ctx: rc}                        // want `\*fasthttp.RequestCtx used as a context.Context`
	_ = job{rc, rc}                         // want `\*fasthttp.RequestCtx used as a context.Context`
	_ = []context.Context{rc}               // want `\*fasthttp.RequestCtx used as a context.Context`
	_ = map[string]context.Context{"r": rc} // want `\*fasthttp.RequestCtx used as a context.Context`
	jobs := make(chan context.Context, 1)
	jobs <- rc // want `\*fasthttp.RequestCtx used as a context.Context`
	_ = job{ctx: context.Background(), rc: rc}
	_ = []any{rc}

	query(rc, "k")                            // want `\*fasthttp.RequestCtx used as a context.Context`
	context.WithTimeout(rc, 0)                // want `\*fasthttp.RequestCtx used as a context.Context`
	many(context.Background(), rc)            // want `\*fasthttp.RequestCtx used as a context.Context`
	var c context.Context = rc                // want `\*fasthttp.RequestCtx used as a context.Context`
	c = rc                                    // want `\*fasthttp.RequestCtx used as a context.Context`
	_ = context.Context(rc)                   // want `\*fasthttp.RequestCtx used as a context.Context`
	go func() context.Context { return rc }() // want `\*fasthttp.RequestCtx used as a context.Context`

	// Fine: a context of its own, rc where a RequestCtx or any value is wanted.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	query(ctx, "k")
	takesRC(rc)
	takesAny(rc)
	_ = c
}
