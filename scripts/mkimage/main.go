// Command mkimage writes a PNG of about the requested size to standard output, for the benchmark
// scripts: random pixels do not compress, so the size follows the pixel count.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
)

func main() {
	size := flag.Int("size", 15<<10, "approximate size in bytes")
	seed := flag.Uint64("seed", 1, "pixel seed")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: mkimage [-size BYTES] [-seed N] > image.png\n\n"+
			"mkimage writes a PNG of random pixels, of about the requested size, to standard output.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	side := int(math.Sqrt(float64(*size) / 4))
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(*seed, 0))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	os.Stdout.Write(b.Bytes())
}
