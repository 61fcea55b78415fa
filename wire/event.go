package wire

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// Body is what an event body says, before it is checked against the
// subject it arrived on. LocationID and SKU are optional in a body: the
// subject names the key.
type Body struct {
	LocationID *string
	SKU        *string
	Count      sellable.Quantity
	// Source is who produced the event, when the body says.
	Source *string
	// ReservationID names the cart reservation of a hold, release,
	// fulfilment or expiry; empty otherwise.
	ReservationID string
	// Reason and Reference are optional: absent in events from before
	// they existed.
	Reason    *string
	Reference *string
}

// EventCodec encodes and decodes event bodies of one content type.
type EventCodec interface {
	ContentType() string
	EncodeEvent(e sellable.Event) ([]byte, error)
	// DecodeEvent reads a body; a codec that needs a writer schema asks
	// the registry within ctx.
	DecodeEvent(ctx context.Context, data []byte) (Body, error)
}

// Codecs picks a codec by a message's Content-Type header.
type Codecs struct {
	byType map[string]EventCodec
}

// NewCodecs serves the given codecs; JSON is always included and is used
// for messages without a Content-Type.
func NewCodecs(cs ...EventCodec) *Codecs {
	m := map[string]EventCodec{ContentTypeJSON: JSON{}}
	for _, c := range cs {
		m[c.ContentType()] = c
	}
	return &Codecs{byType: m}
}

// DecodeStored turns a stored event message into an event and its
// partition, asking the schema registry within ctx for a writer schema
// not seen before. An error wrapping ErrRegistry means the registry could
// not be asked (retry); any other error means the message can never be
// applied and belongs in the dead-letter stream.
func (cs *Codecs) DecodeStored(ctx context.Context, subject string, h nats.Header, data []byte) (sellable.Event, int, error) {
	kind, p, key, err := streams.ParseStoredSubject(subject)
	if err != nil {
		return sellable.Event{}, 0, err
	}
	ct := h.Get(streams.HeaderContentType)
	if ct == "" {
		ct = ContentTypeJSON
	}
	codec, ok := cs.byType[ct]
	if !ok {
		return sellable.Event{}, p, fmt.Errorf("%w: unknown content type %q", ErrDecode, ct)
	}
	// The package's own codecs turn a body into its event themselves,
	// without a Body in between, and so without allocating (a Body's
	// strings would each be a copy). Matched by concrete type, not by a
	// method: a codec that embeds one of them and overrides DecodeEvent
	// must be decoded through its DecodeEvent.
	var e sellable.Event
	switch c := codec.(type) {
	case JSON:
		e, err = c.decodeStored(kind, key, data)
	case *AvroEvents:
		e, err = c.decodeStored(ctx, kind, key, data)
	default:
		var body Body
		if body, err = codec.DecodeEvent(ctx, data); err == nil {
			e, err = eventOf(kind, key, body)
		}
	}
	if err != nil {
		return sellable.Event{}, p, err
	}
	return e, p, nil
}

// eventOf checks body against the kind and key of its subject and makes
// it the event it records.
func eventOf(kind sellable.Kind, key sellable.Key, body Body) (sellable.Event, error) {
	if body.LocationID != nil && *body.LocationID != key.LocationID {
		return sellable.Event{}, mismatch("locationId", *body.LocationID, key.LocationID)
	}
	if body.SKU != nil && *body.SKU != key.SKU {
		return sellable.Event{}, mismatch("sku", *body.SKU, key.SKU)
	}
	return validEvent(sellable.Event{
		Kind: kind, Key: key, Count: body.Count.Value, ReservationID: body.ReservationID,
		Reason: sellable.Reason(deref(body.Reason)), Reference: deref(body.Reference), Source: deref(body.Source),
	}, body.Count.Set)
}

func mismatch(field, body, subject string) error {
	return fmt.Errorf("%w: %s %q, subject says %q", ErrMismatch, field, body, subject)
}

// validEvent is e if it has a count (counted) and is valid.
func validEvent(e sellable.Event, counted bool) (sellable.Event, error) {
	if !counted {
		return sellable.Event{}, &sellable.FieldError{Field: "count", Err: sellable.ErrMissingCount}
	}
	if err := e.Validate(); err != nil {
		return sellable.Event{}, err
	}
	return e, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
