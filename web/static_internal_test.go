package web

import "testing"

// BenchmarkNewAssets is what reading, hashing and compressing every
// embedded file costs, once, at the portal's start.
func BenchmarkNewAssets(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := newAssets(); err != nil {
			b.Fatal(err)
		}
	}
}
