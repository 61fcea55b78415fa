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
	// ReservationID names the cart reservation of a hold, release,
	// fulfilment or expiry; empty otherwise.
	ReservationID string
}

// EventCodec encodes and decodes event bodies of one content type.
type EventCodec interface {
	ContentType() string
	EncodeEvent(e sellable.Event) ([]byte, error)
	// DecodeEvent reads a body; a codec that needs a writer schema asks
	// the registry within ctx.
	DecodeEvent(ctx context.Context, data []byte) (Body, error)
}

// kindCodec is a codec whose bodies name their kind (Avro: the record of
// the writer schema), so that a body of one kind stored on the other
// kind's subject is refused rather than applied as the subject's kind.
type kindCodec interface {
	decodeEventOf(ctx context.Context, kind sellable.Kind, data []byte) (Body, error)
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
	var body Body
	if kc, ok := codec.(kindCodec); ok {
		body, err = kc.decodeEventOf(ctx, kind, data)
	} else {
		body, err = codec.DecodeEvent(ctx, data)
	}
	if err != nil {
		return sellable.Event{}, p, err
	}
	if body.LocationID != nil && *body.LocationID != key.LocationID {
		return sellable.Event{}, p, fmt.Errorf("%w: locationId %q, subject says %q", ErrMismatch, *body.LocationID, key.LocationID)
	}
	if body.SKU != nil && *body.SKU != key.SKU {
		return sellable.Event{}, p, fmt.Errorf("%w: sku %q, subject says %q", ErrMismatch, *body.SKU, key.SKU)
	}
	if !body.Count.Set {
		return sellable.Event{}, p, &sellable.FieldError{Field: "count", Err: sellable.ErrMissingCount}
	}
	e := sellable.Event{Kind: kind, Key: key, Count: body.Count.Value, ReservationID: body.ReservationID}
	if err := e.Validate(); err != nil {
		return sellable.Event{}, p, err
	}
	return e, p, nil
}
