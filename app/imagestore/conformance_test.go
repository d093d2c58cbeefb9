package imagestore_test

import (
	"os"
	"path/filepath"
	"testing"

	"imgcache/app/imagestore"
	"imgcache/app/imagestore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Subject {
		dir := filepath.Join(t.TempDir(), "images")
		s, err := imagestore.Open(dir)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return storetest.Subject{Store: s, Plant: func(t *testing.T, name string, data []byte) {
			t.Helper()
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}}
	})
}
