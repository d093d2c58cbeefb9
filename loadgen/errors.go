package loadgen

import "errors"

// Sentinel errors, wrapped with context where they are returned.
var (
	// ErrBadConfig reports a configuration value that cannot work.
	ErrBadConfig = errors.New("bad configuration")
	// ErrService reports a service that answered something other than the contract's success.
	ErrService = errors.New("unexpected answer from service")
)
