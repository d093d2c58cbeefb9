package loadgen

import (
	"errors"

	"imgcache/reports/results"
)

// Sentinel errors, wrapped with context where they are returned.
var (
	// ErrBadConfig reports a configuration value that cannot work; it is the results package's,
	// so that a malformed mix is one too.
	ErrBadConfig = results.ErrBadConfig
	// ErrService reports a service that answered something other than the contract's success.
	ErrService = errors.New("unexpected answer from service")
)
