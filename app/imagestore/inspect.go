package imagestore

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // DecodeConfig of the four supported types
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"
)

// Info is what Inspect learns of an image from its header.
type Info struct {
	ContentType   string
	Width, Height int
}

// Pixels is the image's area.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// Inspect judges data by its bytes: its type by the magic bytes (Sniff), then its header by the
// type's decoder, for its dimensions. Bytes that merely start like an image (a PNG signature before
// HTML, a RIFF header with no WebP inside) fail with ErrNotImage; empty data with ErrEmpty.
func Inspect(data []byte) (Info, error) {
	ct, err := Sniff(data)
	if err != nil {
		return Info{}, err
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Info{}, fmt.Errorf("%w: its %s header does not decode: %v", ErrNotImage, ct, err)
	}
	if "image/"+format != ct {
		return Info{}, fmt.Errorf("%w: it starts as %s but decodes as %s", ErrNotImage, ct, format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, fmt.Errorf("%w: its header says %dx%d pixels", ErrNotImage, cfg.Width, cfg.Height)
	}
	return Info{ContentType: ct, Width: cfg.Width, Height: cfg.Height}, nil
}
