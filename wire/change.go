package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// Change is the message that announces a position's new value on
// inventory.sellable.<loc>.<sku>: the JSON body as it is, and what the
// Avro SellableChange record holds. It is the change message's own type,
// apart from sellable.Position, so that its field names are a contract
// with consumers that a change of the domain type cannot break.
type Change struct {
	LocationID string    `json:"locationId"`
	SKU        string    `json:"sku"`
	Count      int64     `json:"count"`
	Adjusted   int64     `json:"adjusted"`
	Reserved   int64     `json:"reserved"`
	Seq        uint64    `json:"seq"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// ChangeOf is the change message announcing p.
func ChangeOf(p sellable.Position) Change {
	return Change{
		LocationID: p.LocationID, SKU: p.SKU,
		Count: p.Count, Adjusted: p.OnHand, Reserved: p.Reserved,
		Seq: p.Seq, UpdatedAt: p.UpdatedAt,
	}
}

// Position is the position c announces.
func (c Change) Position() sellable.Position {
	return sellable.Position{
		LocationID: c.LocationID, SKU: c.SKU,
		Count: c.Count, OnHand: c.Adjusted, Reserved: c.Reserved,
		Seq: c.Seq, UpdatedAt: c.UpdatedAt,
	}
}

// ChangeMsg builds the message that announced p on the retired stream
// SELLABLE. The calculator no longer publishes changes (the view buckets
// republish their values, kv.BucketConfig); what is left of this file
// serves the feed until it reads the buckets' streams too, and goes with
// that.
func ChangeMsg(p sellable.Position) (*nats.Msg, error) {
	data, err := json.Marshal(ChangeOf(p))
	if err != nil {
		return nil, fmt.Errorf("wire: encode change: %w", err)
	}
	return changeMsg(p, data, ContentTypeJSON), nil
}

func changeMsg(p sellable.Position, data []byte, contentType string) *nats.Msg {
	k := sellable.Key{LocationID: p.LocationID, SKU: p.SKU}
	m := nats.NewMsg(streams.SellableSubject(k))
	m.Data = data
	m.Header.Set(streams.HeaderContentType, contentType)
	return m
}

// DecodeChange reads a JSON sellable change message; an Avro one needs a
// ChangeCodec.
func DecodeChange(h nats.Header, data []byte) (sellable.Position, error) {
	if ct := h.Get(streams.HeaderContentType); ct != "" && ct != ContentTypeJSON {
		return sellable.Position{}, fmt.Errorf("%w: unknown content type %q", ErrDecode, ct)
	}
	return decodeJSONChange(data)
}

// ChangeCodec writes sellable changes in one format and reads both JSON
// and Avro, chosen by the Content-Type header (none: JSON). A nil
// *ChangeCodec, or one without Avro, writes and reads JSON only, exactly
// as ChangeMsg and DecodeChange do.
type ChangeCodec struct {
	avro *AvroChanges
}

// NewChangeCodec writes Avro with avro, or JSON if avro is nil.
func NewChangeCodec(avro *AvroChanges) *ChangeCodec {
	return &ChangeCodec{avro: avro}
}

// ContentType is the format ChangeMsg writes.
func (c *ChangeCodec) ContentType() string {
	if c == nil || c.avro == nil {
		return ContentTypeJSON
	}
	return ContentTypeAvro
}

// ChangeMsg is the package's ChangeMsg in the codec's format: same
// subject, same headers but the content type.
func (c *ChangeCodec) ChangeMsg(p sellable.Position) (*nats.Msg, error) {
	if c == nil || c.avro == nil {
		return ChangeMsg(p)
	}
	data, err := c.avro.EncodeChange(p)
	if err != nil {
		return nil, err
	}
	return changeMsg(p, data, ContentTypeAvro), nil
}

// DecodeChange reads a sellable change message in either format, asking
// the registry within ctx for an Avro writer schema not seen before.
// Errors about the message wrap ErrDecode; an unreachable registry gives
// ErrRegistry.
func (c *ChangeCodec) DecodeChange(ctx context.Context, h nats.Header, data []byte) (sellable.Position, error) {
	switch ct := h.Get(streams.HeaderContentType); ct {
	case "", ContentTypeJSON:
		return decodeJSONChange(data)
	case ContentTypeAvro:
		if c == nil || c.avro == nil {
			return sellable.Position{}, fmt.Errorf("%w: avro change, but no avro codec configured", ErrDecode)
		}
		return c.avro.DecodeChange(ctx, data)
	default:
		return sellable.Position{}, fmt.Errorf("%w: unknown content type %q", ErrDecode, ct)
	}
}

func decodeJSONChange(data []byte) (sellable.Position, error) {
	var c Change
	if err := json.Unmarshal(data, &c); err != nil {
		return sellable.Position{}, fmt.Errorf("%w: change: %v", ErrDecode, err)
	}
	return c.Position(), nil
}
