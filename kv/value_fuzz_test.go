package kv_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
)

// Whatever sits under a view key (anyone with write access to the bucket
// can put bytes there) decodes to a position or an error, never a panic,
// and what decodes survives a round trip.
func FuzzDecodeValue(f *testing.F) {
	good, err := kv.EncodeValue(sellable.Position{LocationID: "STL", SKU: "1", Count: 9, OnHand: 10, Reserved: 1, Seq: 7, UpdatedAt: time.Unix(1700000000, 0).UTC()})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(good), `{}`, `null`, `[]`, `{"v":-1}`, `{"v":2}`, `{"v":1e300}`, `{"v":"1"}`,
		`{"count":"ten"}`, `{"seq":-1}`, string(good[:len(good)/2]),
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		`{"v":1,"locationId":"` + strings.Repeat("x", 1<<16) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := kv.DecodeValue(data)
		if err != nil {
			return
		}
		again, err := kv.EncodeValue(p)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", p, err)
		}
		q, err := kv.DecodeValue(again)
		if err != nil || q.Seq != p.Seq || q.Count != p.Count || q.LocationID != p.LocationID || !q.UpdatedAt.Equal(p.UpdatedAt) {
			t.Fatalf("round trip of %+v gave %+v, %v", p, q, err)
		}
	})
}

// Hostile values are refused with an error, and a version from the future
// or the past is named as such.
func TestDecodeValueRefusesHostileValues(t *testing.T) {
	for _, in := range []string{
		`not json`, `{"v":1,"count":`, `{"v":-1}`, `{"v":3}`, `{"v":"1"}`, `{"count":"ten"}`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	} {
		if _, err := kv.DecodeValue([]byte(in)); err == nil {
			t.Errorf("DecodeValue(%.40q) accepted it", in)
		}
	}
	for _, in := range []string{`{"v":-1}`, `{"v":3}`} {
		if _, err := kv.DecodeValue([]byte(in)); !errors.Is(err, kv.ErrValueVersion) {
			t.Errorf("DecodeValue(%s) = %v, want ErrValueVersion", in, err)
		}
	}
}
