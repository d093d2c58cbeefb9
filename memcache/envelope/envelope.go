// Package envelope writes the JSON success and failure bodies that both imgcache services answer with.
package envelope

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/valyala/fasthttp"
)

// True and False are the string values of the contract's "success" field; the original design used
// strings, not JSON booleans, and its clients compare them as text.
const (
	True  = "true"
	False = "false"
)

// Error is a failure that carries the HTTP status it answers with. Handlers return it (or wrap it) for
// client errors; anything else maps to 500 through Status.
type Error struct {
	Code    int
	Message string // shown to the client
	Cause   error  // kept for the log, never shown
}

// Error returns the message and the cause, for logs.
func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Errorf builds an *Error with a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Failure is the body of every failed request.
type Failure struct {
	Success string      `json:"success"`
	Error   FailureBody `json:"error"`
}

// FailureBody is the "error" object inside a Failure.
type FailureBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Status returns the HTTP status and client-facing message for err: an *Error anywhere in the chain
// gives its own; anything else is an internal error whose details stay in the log.
func Status(err error) (code int, message string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Message
	}
	return http.StatusInternalServerError, "internal error"
}

// WriteJSON answers status with v encoded as JSON.
func WriteJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here: every body is a plain struct.
		status, b = http.StatusInternalServerError, []byte(`{"success":"false","error":{"code":500,"message":"internal error"}}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

// WriteError answers err in the failure shape. Server errors (5xx) are logged with their cause;
// client errors are not, since they say nothing about the health of the service.
func WriteError(ctx *fasthttp.RequestCtx, log *slog.Logger, err error) {
	code, msg := Status(err)
	if code >= 500 && log != nil {
		log.Error("request failed", "method", string(ctx.Method()), "path", string(ctx.Path()), "status", code, "err", err)
	}
	WriteJSON(ctx, code, Failure{Success: False, Error: FailureBody{Code: code, Message: msg}})
}

// BodyTooLarge is a fasthttp Server.ErrorHandler that answers an oversized body with 413 in the failure
// shape; fasthttp's own answer is a plain-text 400. Other read errors are malformed requests (400).
func BodyTooLarge(limit int) func(ctx *fasthttp.RequestCtx, err error) {
	return func(ctx *fasthttp.RequestCtx, err error) {
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			WriteError(ctx, nil, Errorf(http.StatusRequestEntityTooLarge, "request body exceeds the limit of %d bytes", limit))
			return
		}
		WriteError(ctx, nil, Errorf(http.StatusBadRequest, "malformed request: %v", err))
	}
}

// Logger adapts a slog.Logger to fasthttp's Logger, so the server's own messages (a client that sent a
// body over the limit, a connection reset) go to the service's log as warnings, not to the standard log.
func Logger(l *slog.Logger) fasthttp.Logger { return fastLogger{l} }

type fastLogger struct{ l *slog.Logger }

func (f fastLogger) Printf(format string, args ...any) { f.l.Warn(fmt.Sprintf(format, args...)) }
