package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/sellable/inventory/sellable"
)

// ContentTypeJSON marks JSON bodies, the format of hand-published events.
const ContentTypeJSON = "application/json"

// JSON is the event codec for {"locationId":..,"sku":..,"count":..},
// with "reservationId" on the events of a cart reservation's lines.
type JSON struct{}

// ContentType is application/json.
func (JSON) ContentType() string { return ContentTypeJSON }

// EncodeEvent writes the body the original system's clients send.
func (JSON) EncodeEvent(e sellable.Event) ([]byte, error) {
	b := make([]byte, 0, 48+len(e.Key.LocationID)+len(e.Key.SKU))
	b = append(b, `{"locationId":`...)
	b = appendJSONString(b, e.Key.LocationID)
	b = append(b, `,"sku":`...)
	b = appendJSONString(b, e.Key.SKU)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, e.Count, 10)
	if e.ReservationID != "" {
		b = append(b, `,"reservationId":`...)
		b = appendJSONString(b, e.ReservationID)
	}
	return append(b, '}'), nil
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

type jsonBody struct {
	LocationID    *string           `json:"locationId"`
	SKU           *string           `json:"sku"`
	Count         sellable.Quantity `json:"count"`
	ReservationID string            `json:"reservationId"`
}

// DecodeEvent reads a JSON body. Unknown fields are allowed, wrong types
// are not. It does no I/O.
func (JSON) DecodeEvent(_ context.Context, data []byte) (Body, error) {
	var jb jsonBody
	if err := json.Unmarshal(data, &jb); err != nil {
		return Body{}, fmt.Errorf("%w: json: %v", ErrDecode, err)
	}
	return Body(jb), nil
}
