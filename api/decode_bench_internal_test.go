package api

import (
	"strings"
	"testing"
)

// BenchmarkDecodeCommand is the decode of a single command's body, the
// 55 bytes wrk's post.lua sends: read, parse, check every field.
func BenchmarkDecodeCommand(b *testing.B) {
	const body = `{"locationId":"wrk-L1","sku":"wrk-000001","count":"1"}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeCommand(strings.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}
