package bench

import "flag"

// update rewrites the golden files under testdata instead of comparing with them.
var update = flag.Bool("update", false, "rewrite the golden files under testdata")
