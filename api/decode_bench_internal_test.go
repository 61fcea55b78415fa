package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sellable/inventory/sellable"
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

// BenchmarkDecodeCommandStruct is the alternative to decodeCommand's
// scanner the issue named: encoding/json into a fixed struct, count
// left raw. It is a lower bound for that route, not a decoder one could
// use as it stands: it takes the last of duplicate keys and replaces
// invalid UTF-8, so it would need another pass for those.
func BenchmarkDecodeCommandStruct(b *testing.B) {
	const body = `{"locationId":"wrk-L1","sku":"wrk-000001","count":"1"}`
	b.ReportAllocs()
	for b.Loop() {
		data, err := readBody(strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var v struct {
			LocationID string          `json:"locationId"`
			SKU        string          `json:"sku"`
			Count      json.RawMessage `json:"count"`
			Reason     string          `json:"reason"`
			Reference  string          `json:"reference"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
		var q sellable.Quantity
		if err := q.UnmarshalJSON(v.Count); err != nil {
			b.Fatal(err)
		}
	}
}
