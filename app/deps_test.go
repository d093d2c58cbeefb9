package app_test

import (
	"os/exec"
	"slices"
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
	for _, pkg := range []string{"imgcache/app/cmd/backend", "imgcache/app/web"} {
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

// TestDomainLinksNoPages: the root package is the domain and the JSON API. The pages (app/web, its
// templates and the benchmark reports) import it, never the other way.
func TestDomainLinksNoPages(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	out, err := exec.Command(gobin, "list", "-deps", "imgcache/app").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps imgcache/app: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !slices.Contains(deps, "imgcache/database") {
		t.Fatalf("go list -deps imgcache/app gave %d packages, without imgcache/database: not the list expected", len(deps))
	}
	for _, dep := range deps {
		if dep == "html/template" || strings.HasPrefix(dep, "imgcache/app/web") || strings.HasPrefix(dep, "imgcache/reports") || strings.HasPrefix(dep, "gonum.org/") {
			t.Errorf("imgcache/app depends on %s", dep)
		}
	}
}
