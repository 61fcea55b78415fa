package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/sellable"
)

// Run for minutes with, e.g.:
//
//	go test -run '^$' -fuzz FuzzDecodeReserve -fuzztime 3m ./api/
//	go test -run '^$' -fuzz FuzzDecodeCount -fuzztime 3m ./api/

// FuzzDecodeReserve: no body panics the cart reservation decoder; every
// refusal is a 400 naming a field; an accepted request has 1 to
// MaxReservationLines valid lines and no key twice. (ttl and expiresAt
// together are the reservation service's refusal, not the decoder's.)
func FuzzDecodeReserve(f *testing.F) {
	for _, s := range []string{
		`{"lines":[{"locationId":"STL","sku":"1","count":2}]}`,
		`{"reservationId":"c-1","lines":[{"locationId":"STL","sku":"1","count":"2"},{"locationId":"KC","sku":"1","count":1}],"ttl":"15m"}`,
		`{"lines":[{"locationId":"STL","sku":"1","count":1}],"expiresAt":"2030-01-01T00:00:00Z"}`,
		`{"lines":[{"locationId":"STL","sku":"1","count":1},{"locationId":"STL","sku":"1","count":1}]}`,
		`{"lines":[{"locationId":"STL","sku":"1","count":1}],"ttl":"15m","expiresAt":"2030-01-01T00:00:00Z"}`,
		`{"lines":[],"lines":[{"locationId":"STL","sku":"1","count":1}]}`,
		`{"lines":[{"locationId":"STL","sku":"1","count":0}]}`,
		`{"lines":[{"locationId":"STL","sku":"1","count":1,"extra":true}]}`,
		`{"lines":null}`, `{"lines":[[[[[[[[[[]]]]]]]]]]}`, `{"ttl":"-1s"}`,
		`{"lines":[` + strings.Repeat(`{"locationId":"L","sku":"s","count":1},`, sellable.MaxReservationLines) + `{"locationId":"L","sku":"t","count":1}]}`,
		`[1]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, data []byte) {
		req := httptest.NewRequest(http.MethodPost, "/inventory/reservations", bytes.NewReader(data))
		r, err := decodeReserve(e.NewContext(req, httptest.NewRecorder()))
		if err != nil {
			mustBe400(t, data, err)
			return
		}
		if len(r.Lines) == 0 || len(r.Lines) > sellable.MaxReservationLines {
			t.Fatalf("%q accepted with %d lines", data, len(r.Lines))
		}
		if err := sellable.ValidateLines(r.Lines); err != nil {
			t.Fatalf("%q accepted with invalid lines: %v", data, err)
		}
	})
}

// FuzzDecodeCount: no body panics the stock count decoder; every refusal
// is a 400 naming a field; an accepted count has a key and an on-hand.
func FuzzDecodeCount(f *testing.F) {
	for _, s := range []string{
		`{"locationId":"STL","sku":"1","onHand":57}`,
		`{"locationId":"STL","sku":"1","onHand":"57","expectedOnHand":50}`,
		`{"locationId":"STL","sku":"1","onHand":57,"expectedOnHand":null}`,
		`{"locationId":"STL","sku":"1","onHand":57,"onHand":58}`,
		`{"locationId":"STL","sku":"1","onHand":-1}`,
		`{"locationId":"STL","sku":"1"}`,
		`{"locationId":"STL","sku":"1","onHand":57,"count":1}`,
		`[1]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCount(bytes.NewReader(data))
		if err != nil {
			mustBe400(t, data, err)
			return
		}
		if c.Key.LocationID == "" || c.Key.SKU == "" {
			t.Fatalf("%q accepted without a key: %+v", data, c)
		}
	})
}
