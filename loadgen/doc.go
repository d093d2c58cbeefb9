// Package loadgen drives imgcache with a generated image set, skewed key popularity and vegeta
// constant-rate attacks that mix reads and writes, and records what each step of the run matrix saw.
package loadgen
