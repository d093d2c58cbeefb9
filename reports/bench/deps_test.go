package bench

import (
	"os/exec"
	"strings"
	"testing"
)

// The backend is to show reports and comparisons without linking vegeta: this package, which
// holds them, must not depend on it, nor on loadgen, which does.
func TestNoVegeta(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	out, err := exec.Command(gobin, "list", "-deps", "imgcache/reports/bench").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "tsenart/vegeta") || dep == "imgcache/loadgen" {
			t.Errorf("imgcache/reports/bench depends on %s", dep)
		}
	}
}
