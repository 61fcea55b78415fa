package wire_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// refBody is the reflective decoder the hand-written one replaced: the
// reference of what a JSON event body means.
type refBody struct {
	LocationID    *string           `json:"locationId"`
	SKU           *string           `json:"sku"`
	Count         sellable.Quantity `json:"count"`
	Source        *string           `json:"source"`
	ReservationID string            `json:"reservationId"`
	Reason        *string           `json:"reason"`
	Reference     *string           `json:"reference"`
}

func refDecode(data []byte) (wire.Body, error) {
	var b refBody
	if err := json.Unmarshal(data, &b); err != nil {
		return wire.Body{}, err
	}
	return wire.Body{LocationID: b.LocationID, SKU: b.SKU, Count: b.Count, Source: b.Source,
		ReservationID: b.ReservationID, Reason: b.Reason, Reference: b.Reference}, nil
}

// genericJSON is the JSON codec seen only through the EventCodec
// interface, so that DecodeStored takes its generic path (DecodeEvent,
// then the checks) rather than the JSON codec's own one.
type genericJSON struct{ j wire.JSON }

func (g genericJSON) ContentType() string                          { return g.j.ContentType() }
func (g genericJSON) EncodeEvent(e sellable.Event) ([]byte, error) { return g.j.EncodeEvent(e) }
func (g genericJSON) DecodeEvent(ctx context.Context, d []byte) (wire.Body, error) {
	return g.j.DecodeEvent(ctx, d)
}

// jsonEventSeeds are the forms a JSON event body takes, and the ways
// encoding/json bends or refuses them.
var jsonEventSeeds = []string{
	`{"locationId":"STL","sku":"fuzz","count":5}`,
	`{"locationId":"STL","sku":"fuzz","count":"5"}`,
	`{"count":-3}`, `{"count":"-0"}`, `{"count":0}`, `{"count":"0"}`, `{"count":05}`, `{"count":"05"}`,
	`{"count":1.5}`, `{"count":1e3}`, `{"count":"1e3"}`, `{"count":" 5"}`, `{"count":"+5"}`, `{"count":"\u0035"}`,
	`{"count":9223372036854775807}`, `{"count":9223372036854775808}`, `{"count":-9223372036854775808}`,
	`{"count":123456789012345678}`, `{"count":1234567890123456789}`, `{"count":-}`, `{"count":-a}`,
	`{"count":true}`, `{"count":null}`, `{"count":5,"count":null}`, `{"count":null,"count":5}`,
	`{"count":{}}`, `{"count":[1]}`, `{"count":"ten"}`, `{"count":""}`,
	` { "locationId" : "STL" , "sku" : "fuzz" , "count" : 5 } `, "\t{\"count\":5}\r\n",
	`{"LOCATIONID":"STL","SKU":"fuzz","Count":5}`, `{"ſku":"fuzz","count":5}`, `{"\u212aey":1,"count":5}`,
	`{"sKu":"other","count":5}`, `{"sku":"fuzz","SKU":"other","count":5}`, `{"\u0073ku":"fuzz","count":5}`,
	`{"locationId":null,"sku":null,"count":5}`, `{"locationId":"STL","locationId":null,"count":5}`,
	`{"locationId":5,"count":5}`, `{"sku":true,"count":5}`, `{"sku":{},"count":5}`, `{"sku":[],"count":5}`,
	`{"reservationId":"r1","count":5}`, `{"reservationId":"r1","reservationId":null,"count":5}`,
	`{"reservationId":5,"count":5}`, `{"reservationId":"","count":5}`,
	`{"source":"wms","reason":"received","reference":"PO-1","count":5}`, `{"reason":"nope","count":5}`,
	`{"source":null,"reason":null,"reference":null,"count":5}`, `{"source":1,"count":5}`,
	`{"extra":{"a":[1,2,{"b":null}],"c":"d"},"count":5}`, `{"extra":[[[[]]]],"count":5}`,
	`{"extra":-0.5e-7,"count":5}`, `{"extra":1.,"count":5}`, `{"extra":.5,"count":5}`, `{"extra":1e,"count":5}`,
	`{"extra":tru,"count":5}`, `{"extra":nul}`, `{"extra":"\x","count":5}`, `{"extra":"\u12","count":5}`,
	`{"sku":"fu\"zz","count":5}`, `{"sku":"f\u0075zz","count":5}`, `{"sku":"f\/uzz","count":5}`,
	`{"sku":"\ud83d\ude00","count":5}`, `{"sku":"\ud83d","count":5}`, `{"sku":"\ud83dx","count":5}`,
	`{"sku":"\ude00\ud83d","count":5}`, `{"sku":"\ud83d\u0041","count":5}`, `{"sku":"\ud83d\ud83d\ude00","count":5}`,
	"{\"sku\":\"f\xffzz\",\"count\":5}", "{\"sku\":\"f\xc3\",\"count\":5}", "{\"sku\":\"ü\",\"count\":5}",
	"{\"sku\":\"f\tzz\",\"count\":5}", "{\"sku\":\"f\x00\",\"count\":5}", "{\"s\xffku\":1,\"count\":5}",
	`{"sku":"\b\f\n\r\t\\","count":5}`, `{"sku":"'","count":5}`, `{"sku":"\'","count":5}`,
	"{}\x00", "{\"count\":5}\x00", "{\"count\":5} \x00", "null\x00", "\x00{\"count\":5}", "{\"count\":5\x00}",
	`null`, ` null `, `nul`, `nulll`, `[]`, `[1]`, `"x"`, `5`, `true`, ``, ` `, `{`, `}`, `{}`, `{}{}`, `{} x`,
	`{"count":5,}`, `{,"count":5}`, `{"count":5 "sku":"a"}`, `{"count" 5}`, `{count:5}`, `{'count':5}`,
	`{"count":5}]`, `[{"count":5}]`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":{"b"}}`, `{"a":{"b":1,}}`,
	`{"count":5` + strings.Repeat(` `, 10) + `}`,
	`{"a":` + strings.Repeat(`[`, 9999) + strings.Repeat(`]`, 9999) + `,"count":5}`,
	`{"a":` + strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `,"count":5}`,
	`{"a":` + strings.Repeat(`{"b":`, 9999) + `1` + strings.Repeat(`}`, 9999) + `,"count":5}`,
	`{"a":` + strings.Repeat(`{"b":`, 10000) + `1` + strings.Repeat(`}`, 10000) + `,"count":5}`,
}

// FuzzJSONEventMatchesEncodingJSON holds the hand-written JSON event
// decoder to the reflective one it replaced: the same bodies accepted,
// the same values read; and DecodeStored's own JSON path to its generic
// one: the same event, or an error of the same class.
//
//	go test -run '^$' -fuzz FuzzJSONEventMatchesEncodingJSON -fuzztime 3m -parallel 1 ./wire/
func FuzzJSONEventMatchesEncodingJSON(f *testing.F) {
	for _, s := range jsonEventSeeds {
		f.Add([]byte(s))
	}
	key := sellable.Key{LocationID: "STL", SKU: "fuzz"}
	subject := storedSubject(sellable.Adjustment, key)
	fast, generic := wire.NewCodecs(), wire.NewCodecs(genericJSON{})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := refDecode(data)
		got, err := wire.JSON{}.DecodeEvent(ctx, data)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: DecodeEvent error %v, encoding/json %v", data, err, wantErr)
		}
		if err != nil && !errors.Is(err, wire.ErrDecode) {
			t.Fatalf("%q: DecodeEvent = %v, not ErrDecode", data, err)
		}
		if err == nil && !sameBody(got, want) {
			t.Fatalf("%q: DecodeEvent = %s, encoding/json %s", data, showBody(got), showBody(want))
		}

		h := nats.Header{}
		ev, _, err := fast.DecodeStored(ctx, subject, h, data)
		gev, _, gerr := generic.DecodeStored(ctx, subject, h, data)
		if ev != gev || (err == nil) != (gerr == nil) || errClass(err) != errClass(gerr) {
			t.Fatalf("%q: DecodeStored = %+v, %v; generic path %+v, %v", data, ev, err, gev, gerr)
		}
	})
}

func errClass(err error) string {
	var fe *sellable.FieldError
	switch {
	case err == nil:
		return "none"
	case errors.Is(err, wire.ErrDecode):
		return "decode"
	case errors.Is(err, wire.ErrMismatch):
		return "mismatch"
	case errors.As(err, &fe):
		return "field " + fe.Field
	}
	return "other: " + err.Error()
}

func sameBody(a, b wire.Body) bool {
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eq(a.LocationID, b.LocationID) && eq(a.SKU, b.SKU) && a.Count == b.Count && eq(a.Source, b.Source) &&
		a.ReservationID == b.ReservationID && eq(a.Reason, b.Reason) && eq(a.Reference, b.Reference)
}

func showBody(b wire.Body) string {
	s := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		q, _ := json.Marshal(*p)
		return string(q)
	}
	c, _ := json.Marshal(b.Count)
	return "{loc " + s(b.LocationID) + " sku " + s(b.SKU) + " count " + string(c) + "/" + map[bool]string{true: "set", false: "unset"}[b.Count.Set] +
		" source " + s(b.Source) + " res " + s(&b.ReservationID) + " reason " + s(b.Reason) + " ref " + s(b.Reference) + "}"
}

// TestJSONDecodeStoredAllocatesNothing: a plain JSON event body, the
// `nats pub` path, decodes without a single allocation (it cost 10).
func TestJSONDecodeStoredAllocatesNothing(t *testing.T) {
	k := sellable.Key{LocationID: "STL", SKU: "sku-1"}
	subject := streams.StoredEventSubject(sellable.Adjustment, 3, k)
	data := []byte(`{"locationId":"STL","sku":"sku-1","count":7}`)
	cs := wire.NewCodecs()
	h := nats.Header{}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if e, _, err := cs.DecodeStored(ctx, subject, h, data); err != nil || e.Count != 7 || e.Key != k {
			t.Fatalf("DecodeStored = %+v, %v", e, err)
		}
	})
	if allocs != 0 {
		t.Errorf("DecodeStored of a JSON body: %v allocations, want 0", allocs)
	}
}
