// Package loadgen drives imgcache with a generated image set (or a replayed cache trace) and vegeta
// constant-rate attacks, searches each cell of the run matrix for saturation, repeats it, and keeps
// the keys it sent for the miss-ratio curves.
package loadgen
