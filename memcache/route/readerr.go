package route

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"
)

// Kinds of request that fasthttp could not read, before any route was found. Each server's status
// table maps them; under them is the parser's own error, for the log.
var (
	// ErrURITooLong: the request line does not fit the read buffer (414).
	ErrURITooLong = errors.New("request URI too long")
	// ErrHeaderTooLarge: the header block does not fit the read buffer (431).
	ErrHeaderTooLarge = errors.New("request header too large")
	// ErrTimeout: the client did not send its request in time (408).
	ErrTimeout = errors.New("request timeout")
	// ErrUnreadable: the request is not HTTP that can be read (400).
	ErrUnreadable = errors.New("malformed request")
)

// ReadError classifies an error fasthttp hands its ErrorHandler. A body over the limit stays
// fasthttp.ErrBodyTooLarge; anything else wraps one of the kinds above.
func ReadError(err error) error {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return err
	case errors.As(err, &small):
		// fasthttp's message quotes the start of what it read; a request line that ended in it fit.
		if _, contents, ok := strings.Cut(err.Error(), `contents: "`); ok && strings.Contains(firstPart(contents), `\r\n`) {
			return fmt.Errorf("%w: %w", ErrHeaderTooLarge, err)
		}
		return fmt.Errorf("%w: %w", ErrURITooLong, err)
	case errors.Is(err, fasthttp.ErrTimeout), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrUnreadable, err)
}

// ReadErrorStatus is the status and message of the kinds above, the same on every service: a
// request that could not be read gets no detail of what was read back. ok is false for other errors.
func ReadErrorStatus(err error) (code int, message string, ok bool) {
	switch {
	case errors.Is(err, ErrURITooLong):
		return http.StatusRequestURITooLong, "the request URI is too long", true
	case errors.Is(err, ErrHeaderTooLarge):
		return http.StatusRequestHeaderFieldsTooLarge, "the request headers are too large", true
	case errors.Is(err, ErrTimeout):
		return http.StatusRequestTimeout, "the request did not arrive in time", true
	case errors.Is(err, ErrUnreadable):
		return http.StatusBadRequest, "malformed request: it is not HTTP this server can read", true
	}
	return 0, "", false
}

// firstPart is the head of fasthttp's quoted contents, before it elides the middle.
func firstPart(contents string) string {
	head, _, _ := strings.Cut(contents, `"..."`)
	return head
}
