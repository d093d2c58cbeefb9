package imagestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// tinyWebP is a real 1x1 lossless WebP: the standard library and x/image have no WebP encoder.
var tinyWebP = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

func encoded(t testing.TB, enc func(*bytes.Buffer, image.Image) error, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, color.Black})
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngOf(b *bytes.Buffer, m image.Image) error  { return png.Encode(b, m) }
func jpegOf(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }
func gifOf(b *bytes.Buffer, m image.Image) error  { return gif.Encode(b, m, nil) }

// pngHeader is a PNG signature and an IHDR chunk declaring w x h pixels, with nothing after it: a
// few dozen bytes that claim an image of any size.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	out := append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 13)
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}

func TestInspect(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    Info
		wantErr error
	}{
		{"png", encoded(t, pngOf, 3, 2), Info{TypePNG, 3, 2}, nil},
		{"jpeg", encoded(t, jpegOf, 5, 4), Info{TypeJPEG, 5, 4}, nil},
		{"gif", encoded(t, gifOf, 7, 1), Info{TypeGIF, 7, 1}, nil},
		{"webp", tinyWebP, Info{TypeWebP, 1, 1}, nil},
		{"huge png header", pngHeader(100000, 100000), Info{TypePNG, 100000, 100000}, nil},
		{"empty", nil, Info{}, ErrEmpty},
		{"text", []byte("hello"), Info{}, ErrNotImage},
		{"png signature before html", []byte("\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"), Info{}, ErrNotImage},
		{"riff without webp", []byte("RIFF\x00\x00\x00\x00WEBPjunk"), Info{}, ErrNotImage},
		{"jpeg magic only", []byte("\xff\xd8\xff\xe0 then nothing"), Info{}, ErrNotImage},
		{"gif header only", []byte("GIF89a"), Info{}, ErrNotImage},
		{"zero-sized png", pngHeader(0, 10), Info{}, ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inspect(tt.data)
			if !errors.Is(err, tt.wantErr) || err == nil && got != tt.want {
				t.Errorf("Inspect = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// FuzzInspect: no input panics Inspect, and what it accepts has a supported type that Sniff agrees
// with and positive dimensions.
func FuzzInspect(f *testing.F) {
	f.Add(encoded(f, pngOf, 2, 2))
	f.Add(encoded(f, gifOf, 2, 2))
	f.Add(encoded(f, jpegOf, 2, 2))
	f.Add(tinyWebP)
	f.Add(pngHeader(100000, 100000))
	f.Add([]byte("GIF89a/*..*/=alert(1)"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPjunk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Inspect(data)
		if err != nil {
			if !errors.Is(err, ErrNotImage) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("error %v is neither ErrNotImage nor ErrEmpty", err)
			}
			return
		}
		if ct, err := Sniff(data); err != nil || ct != info.ContentType {
			t.Fatalf("Inspect says %s, Sniff %q, %v", info.ContentType, ct, err)
		}
		if info.Width <= 0 || info.Height <= 0 {
			t.Fatalf("accepted %dx%d", info.Width, info.Height)
		}
	})
}
