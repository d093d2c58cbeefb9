// Command gentrace writes the small synthetic cache trace that loadgen's tests and -trace replay
// use, in Twitter's cache-trace CSV format: go run ./scripts/gentrace > loadgen/testdata/trace-small.csv
package main

import (
	"bufio"
	"fmt"
	"os"

	"imgcache/loadgen/cachetrace"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gentrace:", err)
		os.Exit(1)
	}
}

func run() error {
	recs, err := cachetrace.Generate(cachetrace.Small())
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	if err := cachetrace.Write(w, recs); err != nil {
		return err
	}
	return w.Flush()
}
