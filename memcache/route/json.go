package route

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/valyala/fasthttp"
)

// internalFailure answers when a body cannot be encoded, which only a programming error can cause.
const internalFailure = `{"success":"false","error":{"code":500,"message":"internal error"}}`

// WriteJSON answers status with v encoded as JSON.
func WriteJSON(rc *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(internalFailure)
	}
	rc.SetStatusCode(status)
	rc.SetContentType("application/json")
	rc.SetBody(b)
}

// Logger adapts a slog.Logger to fasthttp's Logger, so the server's own messages (a client that sent
// a body over the limit, a connection reset) go to the service's log as warnings.
func Logger(l *slog.Logger) fasthttp.Logger { return fastLogger{l} }

type fastLogger struct{ l *slog.Logger }

func (f fastLogger) Printf(format string, args ...any) { f.l.Warn(fmt.Sprintf(format, args...)) }
