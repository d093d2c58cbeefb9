package loadgen

import (
	"bytes"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"slices"
	"testing"
)

func TestNewDataset(t *testing.T) {
	cfg := DatasetConfig{Images: 40, Seed: 7}
	ds, err := NewDataset(cfg)
	if err != nil {
		t.Fatalf("NewDataset(%+v): %v", cfg, err)
	}
	if got := len(ds.Images); got != 40 {
		t.Fatalf("len(Images) = %d, want 40", got)
	}
	targets := datasetSizes(ds.Config)
	keys := map[string]bool{}
	for i, im := range ds.Images {
		if keys[im.Key] {
			t.Errorf("key %q appears twice", im.Key)
		}
		keys[im.Key] = true
		c, format, err := image.DecodeConfig(bytes.NewReader(im.Data))
		if err != nil {
			t.Errorf("image %d (%s) does not decode: %v", i, im.Format, err)
			continue
		}
		if format != im.Format {
			t.Errorf("image %d decodes as %s, want %s", i, format, im.Format)
		}
		if c.Width < 8 || c.Height < 8 {
			t.Errorf("image %d is %dx%d", i, c.Width, c.Height)
		}
		// Each file lands close to its drawn size, which keeps the size spread as designed.
		if r := float64(len(im.Data)) / float64(targets[i]); r < 0.9 || r > 1.1 {
			t.Errorf("image %d (%s) is %d bytes, want about %d", i, im.Format, len(im.Data), targets[i])
		}
	}
	info := ds.Info()
	if info.PNG != 20 || info.JPEG != 20 {
		t.Errorf("Info() PNG, JPEG = %d, %d, want 20, 20", info.PNG, info.JPEG)
	}
	if info.Bytes != ds.Bytes() || info.StoredBytes <= info.Bytes*4/3 {
		t.Errorf("Info() bytes %d, stored %d: stored should be the base64 size plus keys", info.Bytes, info.StoredBytes)
	}
}

func TestNewDatasetDeterministic(t *testing.T) {
	a, err := NewDataset(DatasetConfig{Images: 6, Seed: 3, MedianBytes: 20000})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewDataset(DatasetConfig{Images: 6, Seed: 3, MedianBytes: 20000})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewDataset(DatasetConfig{Images: 6, Seed: 4, MedianBytes: 20000})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Images {
		if !bytes.Equal(a.Images[i].Data, b.Images[i].Data) {
			t.Errorf("image %d differs between two runs with seed 3", i)
		}
		if bytes.Equal(a.Images[i].Data, c.Images[i].Data) {
			t.Errorf("image %d is the same with seeds 3 and 4", i)
		}
	}
}

// The size distribution: log-normal around the median, within the bounds.
func TestDatasetSizes(t *testing.T) {
	cfg := DatasetConfig{Images: 2000}.WithDefaults()
	sizes := datasetSizes(cfg)
	slices.Sort(sizes)
	if sizes[0] < cfg.MinBytes || sizes[len(sizes)-1] > cfg.MaxBytes {
		t.Errorf("sizes span %d..%d, want within %d..%d", sizes[0], sizes[len(sizes)-1], cfg.MinBytes, cfg.MaxBytes)
	}
	if med := sizes[len(sizes)/2]; math.Abs(float64(med)/DefaultMedianBytes-1) > 0.1 {
		t.Errorf("median size %d, want within 10%% of %d", med, DefaultMedianBytes)
	}
	// A real spread: a tenth of the files under half the median, a tenth over twice it.
	if p10, p90 := sizes[len(sizes)/10], sizes[len(sizes)*9/10]; p10 > DefaultMedianBytes/2 || p90 < 2*DefaultMedianBytes {
		t.Errorf("10th and 90th percentiles %d and %d, want a wider spread", p10, p90)
	}
}

func TestImageVersion(t *testing.T) {
	ds, err := NewDataset(DatasetConfig{Images: 2, MedianBytes: 15000})
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range ds.Images {
		t.Run(im.Format, func(t *testing.T) {
			seen := [][]byte{}
			for v := range 3 {
				b := im.Version(v)
				if _, format, err := image.Decode(bytes.NewReader(b)); err != nil || format != im.Format {
					t.Errorf("version %d decodes as %q, %v; want %s", v, format, err, im.Format)
				}
				for _, prev := range seen {
					if bytes.Equal(prev, b) {
						t.Errorf("version %d has the bytes of an earlier version", v)
					}
				}
				if d := len(b) - len(im.Data); d < 0 || d > 100 {
					t.Errorf("version %d is %d bytes longer than version 0, want a small comment", v, d)
				}
				seen = append(seen, b)
			}
			if !bytes.Equal(im.Version(0), im.Data) {
				t.Error("Version(0) is not Data")
			}
		})
	}
}

func TestNewDatasetBadConfig(t *testing.T) {
	for name, cfg := range map[string]DatasetConfig{
		"negative count":   {Images: -1},
		"median below min": {MinBytes: 50000, MedianBytes: 20000},
		"max below min":    {MinBytes: 50000, MaxBytes: 20000, MedianBytes: 50000},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewDataset(cfg); !errors.Is(err, ErrBadConfig) {
				t.Errorf("NewDataset(%+v) error = %v, want ErrBadConfig", cfg, err)
			}
		})
	}
}

func BenchmarkNewDataset(b *testing.B) {
	for b.Loop() {
		if _, err := NewDataset(DatasetConfig{Images: DefaultImages}); err != nil {
			b.Fatal(err)
		}
	}
}
