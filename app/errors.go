package app

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/valyala/fasthttp"

	"imgcache/memcache/route"
	"imgcache/memcache/wire"
)

// Kinds of error the backend's operations return. Domain code returns them (wrapped, or inside an
// *Error that carries a message for the client); statusOf alone turns them into HTTP statuses.
var (
	// ErrInvalid: the request is malformed or breaks a rule (a bad key, a missing field).
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound: no image is stored under the key, or there is no such page.
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: the body or the image is over its limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnsupported: the file is not an image of a supported type.
	ErrUnsupported = errors.New("unsupported media type")
	// ErrUnprocessable: a well-formed request that a rule refuses, such as an image too large in pixels.
	ErrUnprocessable = errors.New("unprocessable")
	// ErrForbidden: a state-changing request from another site, or a page form without its token.
	ErrForbidden = errors.New("forbidden")
	// ErrWrongHost: a request for a host name this server does not answer to.
	ErrWrongHost = errors.New("wrong host")
	// ErrUnavailable: a service the operation needs (the database) failed or is unreachable; worth
	// retrying.
	ErrUnavailable = errors.New("unavailable")
)

// Error is an error of a kind with a message written for the person or program that sent the
// request. Cause, if any, goes to the log, never to the client.
type Error struct {
	Kind    error
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

// Unwrap gives errors.Is both the kind and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Cause} }

// Errorf builds an *Error of kind with a formatted message.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func errorf(kind error, format string, args ...any) *Error { return Errorf(kind, format, args...) }

// unavailableMessage is what the client reads when the database fails.
const unavailableMessage = "the database is unavailable; try again shortly"

// statusOf maps an error to the HTTP status and the message the client sees: the one place where
// the backend decides them, for the API and the pages alike. A 5xx message never carries the cause.
func statusOf(err error) (code int, message string) {
	if code, msg, ok := route.ReadErrorStatus(err); ok {
		return code, msg
	}
	code = http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrForbidden):
		code = http.StatusForbidden
	case errors.Is(err, ErrWrongHost):
		code = http.StatusMisdirectedRequest
	case errors.Is(err, ErrNotFound), errors.Is(err, route.ErrNoRoute):
		code = http.StatusNotFound
	case errors.Is(err, route.ErrMethod):
		code = http.StatusMethodNotAllowed
	case errors.Is(err, ErrTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnsupported):
		code = http.StatusUnsupportedMediaType
	case errors.Is(err, ErrUnprocessable):
		code = http.StatusUnprocessableEntity
	case errors.Is(err, ErrUnavailable):
		code = http.StatusServiceUnavailable
	}
	var e *Error
	if code >= 500 {
		if code == http.StatusServiceUnavailable && errors.As(err, &e) {
			return code, e.Message // written for the client; the cause stays in the log
		}
		if code == http.StatusServiceUnavailable {
			return code, unavailableMessage
		}
		return code, "internal error"
	}
	var m *route.MethodError
	switch {
	case errors.As(err, &e):
		return code, e.Message
	case errors.As(err, &m):
		return code, m.Error()
	}
	return code, err.Error()
}

// bodyTooLarge is the error of a body over the limit, in the units of the upload form's hint.
func (s *Server) bodyTooLarge() error {
	return errorf(ErrTooLarge, "the request body is over the limit of %s (images up to %s)",
		HumanSize(int64(s.cfg.MaxUpload+formOverhead)), HumanSize(int64(s.cfg.MaxUpload)))
}

// readError answers a request fasthttp could not read. Its path is unknown, so the answer is the
// API's JSON envelope, which a browser shows readably too.
func (s *Server) readError(rc *fasthttp.RequestCtx, err error) {
	err = route.ReadError(err)
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		err = s.bodyTooLarge()
	}
	code, msg := s.failure(rc, err)
	rc.SetConnectionClose()
	route.WriteJSON(rc, code, wire.NewFailure(code, msg))
}

// Failure is statusOf for the request rc, logging the cause of a 5xx: a client error says nothing about
// the health of the service, so it is not logged.
func (s *Server) Failure(rc *fasthttp.RequestCtx, err error) (code int, message string) {
	return s.failure(rc, err)
}

func (s *Server) failure(rc *fasthttp.RequestCtx, err error) (code int, message string) {
	code, message = statusOf(err)
	if code >= 500 {
		s.log.Error("request failed", "method", string(rc.Method()), "path", string(rc.Path()), "status", code, "err", err)
	}
	return code, message
}
