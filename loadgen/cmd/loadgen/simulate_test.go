package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestSimulateCommand(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(trace, []byte("a\nb\na\nc\na\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "simulate", "-format", "csv", "-unit-size", "-sizes", "2", "-policies", "LRU,FIFO,MIN", "-json", trace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Exactly the shape: no other field in the unsampled output.
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var k []string
		for n := range m {
			k = append(k, n)
		}
		slices.Sort(k)
		return k
	}
	if got := keys(raw); !reflect.DeepEqual(got, []string{"objects", "requests", "results"}) {
		t.Errorf("top-level fields %v", got)
	}
	res := raw["results"].([]any)
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	first := res[0].(map[string]any)
	if got := keys(first); !reflect.DeepEqual(got, []string{"byte_miss_ratio", "miss_ratio", "misses", "policy", "size"}) {
		t.Errorf("result fields %v", got)
	}
	if first["policy"] != "LRU" || first["size"] != 2.0 || first["misses"] != 3.0 || first["miss_ratio"] != 0.6 || raw["requests"] != 5.0 || raw["objects"] != 3.0 {
		t.Errorf("output %s", out)
	}

	pngFile := filepath.Join(t.TempDir(), "mrc.png")
	code, out, errOut = runCmd(t, "simulate", "-format", "csv", "-unit-size", "-sizes", "1,2,3", "-png", pngFile, "-target", "0.3", trace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"requests 5, objects 3", "S3-FIFO", "MIN", "smallest size reaching a hit rate of 0.3"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	f, err := os.Open(pngFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("png: %v", err)
	}

	for _, args := range [][]string{
		{"simulate", trace}, // format not guessed
		{"simulate", "-format", "csv", "-policies", "lru", trace}, // wrong spelling
		{"simulate", "-format", "csv", "-sizes", "1MB", "-unit-size", trace},
		{"simulate", "-format", "csv", "-sample", "2", trace},
		{"simulate", "-format", "csv", "-target", "1", trace},
		{"simulate", "-format", "csv"},
	} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, _ := runCmd(t, "simulate", "-format", "csv", filepath.Join(t.TempDir(), "missing")); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}
