package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBackendLinksNoLoadgen: the backend shows benchmark reports through reports/bench and
// reports/results alone. vegeta, or any package of loadgen (whose root links vegeta), would bring a
// load generator into every backend binary, and a service's import of the tool that measures it.
func TestBackendLinksNoLoadgen(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	for _, pkg := range []string{"imgcache/app/cmd/backend", "imgcache/app"} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command(gobin, "list", "-deps", pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 10 || !strings.Contains(string(out), "imgcache/reports/bench") {
				t.Fatalf("go list -deps %s gave %d packages, without imgcache/reports/bench: not the list expected", pkg, len(deps))
			}
			for _, dep := range deps {
				if strings.Contains(dep, "tsenart/vegeta") || dep == "imgcache/loadgen" || strings.HasPrefix(dep, "imgcache/loadgen/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		})
	}
}
