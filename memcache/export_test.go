package memcache

// DefaultPolicyName exposes the engine's default policy to the external tests.
func DefaultPolicyName() string { return defaultPolicy.String() }
