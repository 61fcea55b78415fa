package wire

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Run for minutes with:
//
//	go test -run '^$' -fuzz FuzzDecodeCart -fuzztime 3m ./wire/

// FuzzDecodeCart: a reservation's record is read back from the event
// stream, where a client with the right to publish there could write
// anything. No bytes panic the decoder; a refusal wraps ErrDecode; what
// it accepts survives a round trip through EncodeCart.
func FuzzDecodeCart(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"id":"c-1","state":"active","lines":[{"locationId":"STL","sku":"1","count":2,"sellableAfter":8}],"expiresAt":"2030-01-01T00:00:00Z","createdAt":"2029-12-31T23:45:00Z","updatedAt":"2029-12-31T23:45:00Z"}`,
		`{"v":1,"id":"c-2","state":"fulfilled","lines":[],"expiresAt":"2030-01-01T01:00:00+01:00"}`,
		`{"v":2,"id":"c-3","state":"active"}`,
		`{"v":1,"state":"nonsense"}`,
		`{"v":1,"state":"active","lines":[` + strings.Repeat(`{"count":1},`, 50) + `{"count":1}]}`,
		`{"v":1,"state":"active","lines":[[[[[[[]]]]]]]}`,
		`{"v":1,"state":"active","expiresAt":"not a time"}`,
		`null`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCart(data)
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				t.Fatalf("%q refused with %v, want ErrDecode", data, err)
			}
			return
		}
		b, err := EncodeCart(c)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", c, err)
		}
		again, err := DecodeCart(b)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", data, again, err, c)
		}
	})
}
