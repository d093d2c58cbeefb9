package web_test

import (
	"testing"

	"imgcache/app"
	"imgcache/app/apptest"
	"imgcache/app/web"
)

// withPages mounts the pages on a test backend.
func withPages(c *app.Config) { c.Pages = web.New }

// startStack is apptest.StartStack with the pages mounted.
func startStack(t *testing.T, dsn string, mutate func(*app.Config)) *apptest.Stack {
	t.Helper()
	return apptest.StartStack(t, dsn, func(c *app.Config) {
		withPages(c)
		if mutate != nil {
			mutate(c)
		}
	})
}
