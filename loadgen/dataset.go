package loadgen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"imgcache/reports/results"
)

// Defaults of DatasetConfig.
const (
	DefaultImages      = 200
	DefaultSeed        = 1
	DefaultMedianBytes = 100_000
	DefaultMinBytes    = 10_000
	DefaultMaxBytes    = 1_000_000
	// DefaultSigma is the log-normal spread: 10 KB and 1 MB sit about three sigmas either side of
	// a 100 KB median, so a few images are large, as in real uploads.
	DefaultSigma     = 0.77
	DefaultKeyPrefix = "lg-"
)

// Image formats a data set uses.
const (
	FormatPNG  = "png"
	FormatJPEG = "jpeg"
)

// DatasetConfig describes a generated image set. The zero value means the defaults.
type DatasetConfig struct {
	Images      int     // number of images; 0 means DefaultImages
	Seed        uint64  // same seed, same bytes; 0 means DefaultSeed
	MedianBytes int     // median file size; 0 means DefaultMedianBytes
	MinBytes    int     // smallest file size; 0 means DefaultMinBytes
	MaxBytes    int     // largest file size; 0 means DefaultMaxBytes
	Sigma       float64 // log-normal sigma of the sizes; 0 means DefaultSigma
	KeyPrefix   string  // keys are KeyPrefix + a 4-digit index; "" means DefaultKeyPrefix
	// Sizes, when set, are the file sizes, one an image (Images may then be 0), in place of the
	// log-normal draw; each is kept within MinBytes and MaxBytes.
	Sizes []int
}

// WithDefaults is the configuration with every zero field set to its default.
func (c DatasetConfig) WithDefaults() DatasetConfig {
	if c.Images == 0 && len(c.Sizes) > 0 {
		c.Images = len(c.Sizes)
	}
	if c.Images == 0 {
		c.Images = DefaultImages
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.MedianBytes == 0 {
		c.MedianBytes = DefaultMedianBytes
	}
	if c.MinBytes == 0 {
		c.MinBytes = DefaultMinBytes
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Sigma == 0 {
		c.Sigma = DefaultSigma
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	return c
}

// Image is one generated image: a real PNG or JPEG file.
type Image struct {
	Key    string
	Format string // FormatPNG or FormatJPEG
	Data   []byte
}

// Version returns the image's bytes for version v: version 0 is Data, later versions carry a
// comment naming the version, so that each upload of a key sends different, still valid, bytes
// of nearly the same size.
func (im Image) Version(v int) []byte {
	if v == 0 {
		return im.Data
	}
	text := fmt.Sprintf("imgcache loadgen %s version %d", im.Key, v)
	switch im.Format {
	case FormatPNG:
		return pngWithComment(im.Data, text)
	default:
		return jpegWithComment(im.Data, text)
	}
}

// Dataset is a deterministic set of images.
type Dataset struct {
	Config DatasetConfig // with defaults filled in
	Images []Image
}

// NewDataset generates the images of cfg. Each image depends only on the seed and its index,
// so the work is spread over the CPUs without changing the result.
func NewDataset(cfg DatasetConfig) (*Dataset, error) {
	cfg = cfg.WithDefaults()
	switch {
	case cfg.Images < 0:
		return nil, fmt.Errorf("dataset: %d images: %w", cfg.Images, ErrBadConfig)
	case cfg.MinBytes < 1000 || cfg.MaxBytes < cfg.MinBytes || cfg.MedianBytes < cfg.MinBytes || cfg.MedianBytes > cfg.MaxBytes:
		return nil, fmt.Errorf("dataset: sizes min %d, median %d, max %d: %w", cfg.MinBytes, cfg.MedianBytes, cfg.MaxBytes, ErrBadConfig)
	case cfg.Sigma < 0:
		return nil, fmt.Errorf("dataset: sigma %g: %w", cfg.Sigma, ErrBadConfig)
	case len(cfg.Sizes) > 0 && len(cfg.Sizes) != cfg.Images:
		return nil, fmt.Errorf("dataset: %d sizes for %d images: %w", len(cfg.Sizes), cfg.Images, ErrBadConfig)
	}
	ds := &Dataset{Config: cfg, Images: make([]Image, cfg.Images)}
	sizes := datasetSizes(cfg)

	var (
		wg   sync.WaitGroup
		next = make(chan int)
		errs = make([]error, cfg.Images)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				ds.Images[i], errs[i] = generateImage(cfg, i, sizes[i])
			}
		})
	}
	for i := range cfg.Images {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return ds, nil
}

// datasetSizes returns the target file sizes: the given ones, or log-normal around the median;
// clamped to the bounds either way.
func datasetSizes(cfg DatasetConfig) []int {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed5))
	sizes := make([]int, cfg.Images)
	for i := range sizes {
		s := float64(cfg.MedianBytes) * math.Exp(cfg.Sigma*r.NormFloat64())
		if len(cfg.Sizes) > 0 {
			s = float64(cfg.Sizes[i])
		}
		sizes[i] = int(min(max(s, float64(cfg.MinBytes)), float64(cfg.MaxBytes)))
	}
	return sizes
}

// generateImage makes image i: even indexes are PNG, odd ones JPEG, both of random noise (which
// neither format can compress, so the file size follows the pixel count).
func generateImage(cfg DatasetConfig, i, size int) (Image, error) {
	im := Image{Key: fmt.Sprintf("%s%04d", cfg.KeyPrefix, i)}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], cfg.Seed)
	binary.LittleEndian.PutUint64(seed[8:], uint64(i))
	noise := rand.NewChaCha8(seed)
	var err error
	if i%2 == 0 {
		im.Format = FormatPNG
		im.Data, err = noisePNG(noise, size)
	} else {
		im.Format = FormatJPEG
		im.Data, err = noiseJPEG(noise, size)
	}
	if err != nil {
		return Image{}, fmt.Errorf("image %d (%s, %d bytes): %w", i, im.Format, size, err)
	}
	return im, nil
}

// dims returns a 4:3 width and height holding about pixels pixels.
func dims(pixels float64) (w, h int) {
	w = max(8, int(math.Sqrt(pixels*4/3)))
	h = max(8, int(pixels/float64(w)))
	return w, h
}

func noisePNG(noise *rand.ChaCha8, size int) ([]byte, error) {
	// Each row is a filter byte and 3 bytes a pixel; stored deflate blocks and chunks add ~0.1%.
	w, h := dims(float64(size-120) / 3.004)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	_, _ = noise.Read(img.Pix)
	for p := 3; p < len(img.Pix); p += 4 {
		img.Pix[p] = 0xff
	}
	var buf bytes.Buffer
	buf.Grow(size + size/64)
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jpegQuality keeps noise images near 2.3 bytes a pixel.
const jpegQuality = 80

func noiseJPEG(noise *rand.ChaCha8, size int) ([]byte, error) {
	bpp := 2.3 // measured for 4:2:0 noise at jpegQuality; the second pass corrects the rest
	var out []byte
	for range 2 {
		w, h := dims(float64(size) / bpp)
		img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		_, _ = noise.Read(img.Y)
		_, _ = noise.Read(img.Cb)
		_, _ = noise.Read(img.Cr)
		var buf bytes.Buffer
		buf.Grow(size + size/8)
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return nil, err
		}
		out = buf.Bytes()
		bpp = float64(len(out)) / float64(w*h)
		if r := float64(len(out)) / float64(size); r > 0.97 && r < 1.03 {
			break
		}
	}
	return out, nil
}

// pngWithComment inserts a tEXt chunk before the final IEND chunk.
func pngWithComment(data []byte, text string) []byte {
	const iendLen = 12
	if len(data) < 8+iendLen {
		return slices.Clone(data)
	}
	payload := append([]byte("Comment\x00"), text...)
	chunk := make([]byte, 0, 12+len(payload))
	chunk = binary.BigEndian.AppendUint32(chunk, uint32(len(payload)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, payload...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	cut := len(data) - iendLen
	out := make([]byte, 0, len(data)+len(chunk))
	out = append(out, data[:cut]...)
	out = append(out, chunk...)
	return append(out, data[cut:]...)
}

// jpegWithComment inserts a COM segment right after the SOI marker.
func jpegWithComment(data []byte, text string) []byte {
	if len(data) < 2 {
		return slices.Clone(data)
	}
	out := make([]byte, 0, len(data)+4+len(text))
	out = append(out, data[:2]...)
	out = append(out, 0xff, 0xfe)
	out = binary.BigEndian.AppendUint16(out, uint16(2+len(text)))
	out = append(out, text...)
	return append(out, data[2:]...)
}

// Bytes returns the sum of the file sizes.
func (d *Dataset) Bytes() int64 {
	var n int64
	for _, im := range d.Images {
		n += int64(len(im.Data))
	}
	return n
}

// StoredBytes returns what a cache holding every image would count: base64 values plus keys,
// the unit of the memcache's capacity.
func (d *Dataset) StoredBytes() int64 {
	var n int64
	for _, im := range d.Images {
		n += int64(StoredSize(im.Key, len(im.Data)))
	}
	return n
}

// Info summarises the data set.
func (d *Dataset) Info() results.DatasetInfo {
	info := results.DatasetInfo{Images: len(d.Images), Seed: d.Config.Seed, Bytes: d.Bytes(), StoredBytes: d.StoredBytes()}
	sizes := make([]int, 0, len(d.Images))
	for _, im := range d.Images {
		sizes = append(sizes, len(im.Data))
		if im.Format == FormatPNG {
			info.PNG++
		} else {
			info.JPEG++
		}
	}
	if len(sizes) > 0 {
		slices.Sort(sizes)
		info.MinBytes, info.MedianBytes, info.MaxBytes = sizes[0], sizes[len(sizes)/2], sizes[len(sizes)-1]
	}
	return info
}
