package main

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"
)

// The want comments in testdata/src/a name every line that must be reported; a report elsewhere, or a
// missing one, fails the test.
func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), Analyzer, "a")
}
