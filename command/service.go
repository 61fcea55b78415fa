package command

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// PublishTimeout bounds the wait for the stream's ack. A client should
// hear 503 and retry (with its idempotency key) rather than hang while
// NATS is unreachable; a healthy ack takes well under a millisecond.
const PublishTimeout = 2 * time.Second

// Service appends commands to the event stream.
type Service struct {
	js         jetstream.JetStream
	codec      streams.EventCodec
	partitions int
}

// NewService publishes with codec into a stream of the given partitions.
func NewService(js jetstream.JetStream, codec streams.EventCodec, partitions int) *Service {
	return &Service{js: js, codec: codec, partitions: partitions}
}

// Record validates c and stores it as an event. Validation failures wrap
// a *sellable.FieldError.
func (s *Service) Record(ctx context.Context, c sellable.Command) (sellable.Receipt, error) {
	e := streams.Event{Kind: c.Kind, Key: streams.Key{LocationID: c.LocationID, SKU: c.SKU}, Count: c.Count}
	if err := e.Validate(); err != nil {
		return sellable.Receipt{}, err
	}
	data, err := s.codec.EncodeEvent(e)
	if err != nil {
		return sellable.Receipt{}, fmt.Errorf("command: encode: %w", err)
	}
	msg := nats.NewMsg(e.Subject())
	msg.Data = data
	msg.Header.Set(streams.HeaderContentType, s.codec.ContentType())
	var opts []jetstream.PublishOpt
	if c.IdempotencyKey != "" {
		opts = append(opts, jetstream.WithMsgID(c.IdempotencyKey))
	}
	ctx, cancel := context.WithTimeout(ctx, PublishTimeout)
	defer cancel()
	ack, err := s.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		return sellable.Receipt{}, fmt.Errorf("%w: %w", sellable.ErrUnavailable, err)
	}
	return sellable.Receipt{
		Stream:    ack.Stream,
		Seq:       ack.Sequence,
		Partition: e.Key.Partition(s.partitions),
		Duplicate: ack.Duplicate,
	}, nil
}
