package web

import (
	"testing"

	"imgcache/app"
)

func TestSizesApart(t *testing.T) {
	tests := []struct {
		name         string
		a, b         int64
		wantA, wantB string
	}{
		{"apart in MB", 17 << 20, 16 << 20, "17 MB", "16 MB"},
		{"apart in KB", 4187, 4096, "4.1 KB", "4 KB"},
		{"rounded alike", 16<<20 + 10, 16 << 20, "16,777,226 bytes", "16,777,216 bytes"},
		{"small", 900, 512, "900 bytes", "512 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := app.SizesApart(tt.a, tt.b)
			if a != tt.wantA || b != tt.wantB {
				t.Errorf("app.SizesApart(%d, %d) = %q, %q; want %q, %q", tt.a, tt.b, a, b, tt.wantA, tt.wantB)
			}
		})
	}
}
