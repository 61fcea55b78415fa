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
	if e.Source != "" {
		b = append(b, `,"source":`...)
		b = appendJSONString(b, e.Source)
	}
	if e.ReservationID != "" {
		b = append(b, `,"reservationId":`...)
		b = appendJSONString(b, e.ReservationID)
	}
	if e.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, string(e.Reason))
	}
	if e.Reference != "" {
		b = append(b, `,"reference":`...)
		b = appendJSONString(b, e.Reference)
	}
	return append(b, '}'), nil
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// DecodeEvent reads a JSON body. Unknown fields are allowed, wrong types
// are not. It does no I/O.
func (JSON) DecodeEvent(_ context.Context, data []byte) (Body, error) {
	var e jsonEvent
	if err := decodeJSONEvent(data, &e); err != nil {
		return Body{}, fmt.Errorf("%w: json: %v", ErrDecode, err)
	}
	return e.body(), nil
}

// decodeStored is DecodeEvent and eventOf in one: the body's key is
// compared with the subject's in place, so a body without escapes costs
// no allocation.
func (JSON) decodeStored(kind sellable.Kind, key sellable.Key, data []byte) (sellable.Event, error) {
	var b jsonEvent
	if err := decodeJSONEvent(data, &b); err != nil {
		return sellable.Event{}, fmt.Errorf("%w: json: %v", ErrDecode, err)
	}
	if b.loc.set && string(b.loc.b) != key.LocationID {
		return sellable.Event{}, mismatch("locationId", string(b.loc.b), key.LocationID)
	}
	if b.sku.set && string(b.sku.b) != key.SKU {
		return sellable.Event{}, mismatch("sku", string(b.sku.b), key.SKU)
	}
	return validEvent(sellable.Event{
		Kind: kind, Key: key, Count: b.count.Value, ReservationID: string(b.reservationID),
		Reason: sellable.Reason(b.reason.b), Reference: string(b.reference.b), Source: string(b.source.b),
	}, b.count.Set)
}
