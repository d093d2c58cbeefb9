package loadgen

import "imgcache/loadgen/verify"

// Verifier returns a checker of the answers to w's requests, each key holding its version 0, as
// Control.UploadAll leaves it.
func (w *Workload) Verifier() (*verify.Verifier, error) {
	keys := make([]verify.Key, len(w.names))
	for i, name := range w.names {
		k := verify.Key{Name: name}
		if i < w.Keys() {
			for b := range w.readURLs {
				k.ReadURLs = append(k.ReadURLs, w.readURLs[b][i])
			}
		}
		for v, up := range w.uploads[i] {
			k.Versions = append(k.Versions, verify.Version{Digest: w.digests[i][v], Body: up.Body, Header: up.Header})
		}
		keys[i] = k
	}
	return verify.New(keys)
}
