package command

import (
	"context"
	"errors"
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
	msg, key, err := s.message(c)
	if err != nil {
		return sellable.Receipt{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, PublishTimeout)
	defer cancel()
	ack, err := s.js.PublishMsg(ctx, msg, msgID(c)...)
	if err != nil {
		return sellable.Receipt{}, fmt.Errorf("%w: %w", sellable.ErrUnavailable, err)
	}
	return s.receipt(ack, key), nil
}

// RecordBatch validates every command, then stores them all, in order,
// with their publishes in flight together. It answers once every one is
// acknowledged; if any is not, the error says the batch may be partly
// stored, and a retry with the same idempotency keys stores the rest
// exactly once. A validation failure stores nothing and names the
// command: "commands[3].count".
func (s *Service) RecordBatch(ctx context.Context, cs []sellable.Command) ([]sellable.Receipt, error) {
	msgs := make([]*nats.Msg, len(cs))
	keys := make([]streams.Key, len(cs))
	for i, c := range cs {
		var err error
		if msgs[i], keys[i], err = s.message(c); err != nil {
			var fe *sellable.FieldError
			if errors.As(err, &fe) {
				return nil, &sellable.FieldError{Field: fmt.Sprintf("commands[%d].%s", i, fe.Field), Err: fe.Err}
			}
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, PublishTimeout)
	defer cancel()
	acks := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		f, err := s.js.PublishMsgAsync(m, msgID(cs[i])...)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", sellable.ErrUnavailable, err)
		}
		acks[i] = f
	}
	out := make([]sellable.Receipt, len(acks))
	for i, f := range acks {
		select {
		case ack := <-f.Ok():
			out[i] = s.receipt(ack, keys[i])
		case err := <-f.Err():
			return nil, fmt.Errorf("%w: command %d: %w", sellable.ErrUnavailable, i, err)
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: command %d: %w", sellable.ErrUnavailable, i, ctx.Err())
		}
	}
	return out, nil
}

// message validates c and encodes it as the message to publish.
func (s *Service) message(c sellable.Command) (*nats.Msg, streams.Key, error) {
	e := streams.Event{Kind: c.Kind, Key: streams.Key{LocationID: c.LocationID, SKU: c.SKU}, Count: c.Count}
	if err := e.Validate(); err != nil {
		return nil, e.Key, err
	}
	data, err := s.codec.EncodeEvent(e)
	if err != nil {
		return nil, e.Key, fmt.Errorf("command: encode: %w", err)
	}
	msg := nats.NewMsg(e.Subject())
	msg.Data = data
	msg.Header.Set(streams.HeaderContentType, s.codec.ContentType())
	return msg, e.Key, nil
}

func msgID(c sellable.Command) []jetstream.PublishOpt {
	if c.IdempotencyKey == "" {
		return nil
	}
	return []jetstream.PublishOpt{jetstream.WithMsgID(c.IdempotencyKey)}
}

func (s *Service) receipt(ack *jetstream.PubAck, k streams.Key) sellable.Receipt {
	return sellable.Receipt{
		Stream:    ack.Stream,
		Seq:       ack.Sequence,
		Partition: k.Partition(s.partitions),
		Duplicate: ack.Duplicate,
	}
}
