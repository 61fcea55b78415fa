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
	"github.com/sellable/inventory/wire"
)

// PublishTimeout bounds the wait for the stream's ack. A client should
// hear 503 and retry (with its idempotency key) rather than hang while
// NATS is unreachable; a healthy ack takes well under a millisecond.
const PublishTimeout = 2 * time.Second

// Service appends commands to the event stream.
type Service struct {
	js         jetstream.JetStream
	codec      wire.EventCodec
	partitions int
	idKey      []byte
}

// Option is an optional behaviour of a Service.
type Option func(*Service)

// WithIDKey derives the Nats-Msg-Id of an idempotent command from its key
// with this secret (see msgKey), so that nobody without the secret can
// publish an event that a later command with that key would meet as its
// duplicate. Every instance of one deployment must use the same secret.
func WithIDKey(secret []byte) Option {
	return func(s *Service) { s.idKey = secret }
}

// NewService publishes with codec into a stream of the given partitions.
func NewService(js jetstream.JetStream, codec wire.EventCodec, partitions int, opts ...Option) *Service {
	s := &Service{js: js, codec: codec, partitions: partitions}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Record validates c and stores it as an event. Validation failures wrap
// a *sellable.FieldError. With an idempotency key, a retry of the same
// request answers the original receipt, and another request under the
// same key is an ErrIdempotencyConflict that stores nothing.
func (s *Service) Record(ctx context.Context, c sellable.Command) (sellable.Receipt, error) {
	msg, key, err := s.message(c)
	if err != nil {
		return sellable.Receipt{}, err
	}
	var hash string
	if c.IdempotencyKey != "" {
		hash = fingerprint(scope(c.Kind), c)
		stamp(msg, requestMsgID(s.msgKey(c.IdempotencyKey)), hash)
	}
	ctx, cancel := context.WithTimeout(ctx, PublishTimeout)
	defer cancel()
	ack, err := s.js.PublishMsg(ctx, msg)
	if err != nil {
		return sellable.Receipt{}, fmt.Errorf("%w: %w", sellable.ErrUnavailable, err)
	}
	if ack.Duplicate {
		return (&originals{js: s.js}).receipt(ctx, ack, hash)
	}
	return s.receipt(ack, key), nil
}

// RecordBatch validates every command, then stores them all, in order,
// with their publishes in flight together. It answers once every one is
// acknowledged; if any is not, the error says the batch may be partly
// stored, and a retry with the same idempotency key stores the rest
// exactly once. A validation failure stores nothing and names the
// command: "commands[3].count".
//
// With an idempotency key, command 0 is stored alone first: if the key
// already names another request (a single command, or another batch),
// command 0 meets it with another fingerprint, and the
// ErrIdempotencyConflict comes before anything of this batch is stored.
// The rest are published only once command 0 is stored.
func (s *Service) RecordBatch(ctx context.Context, cs []sellable.Command, idempotencyKey string) ([]sellable.Receipt, error) {
	msgs := make([]*nats.Msg, len(cs))
	keys := make([]sellable.Key, len(cs))
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
	out := make([]sellable.Receipt, len(msgs))
	first := 0
	if idempotencyKey != "" {
		hash := fingerprint(scopeBatch, cs...)
		stampBatch(msgs, s.msgKey(idempotencyKey), hash)
		ack, err := s.js.PublishMsg(ctx, msgs[0])
		if err != nil {
			return nil, fmt.Errorf("%w: command 0: %w", sellable.ErrUnavailable, err)
		}
		if out[0] = s.receipt(ack, keys[0]); ack.Duplicate {
			if out[0], err = (&originals{js: s.js}).receipt(ctx, ack, hash); err != nil {
				return nil, fmt.Errorf("command 0: %w", err)
			}
		}
		first = 1
	}
	acks := make([]jetstream.PubAckFuture, len(msgs))
	for i := first; i < len(msgs); i++ {
		f, err := s.js.PublishMsgAsync(msgs[i])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", sellable.ErrUnavailable, err)
		}
		acks[i] = f
	}
	for i := first; i < len(msgs); i++ {
		select {
		case ack := <-acks[i].Ok():
			// A duplicate here is this batch's own command (its id holds
			// the fingerprint), so it needs no reading back.
			out[i] = s.receipt(ack, keys[i])
		case err := <-acks[i].Err():
			return nil, fmt.Errorf("%w: command %d: %w", sellable.ErrUnavailable, i, err)
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: command %d: %w", sellable.ErrUnavailable, i, ctx.Err())
		}
	}
	return out, nil
}

// message validates c and encodes it as the message to publish.
func (s *Service) message(c sellable.Command) (*nats.Msg, sellable.Key, error) {
	e := sellable.Event{
		Kind: c.Kind, Key: sellable.Key{LocationID: c.LocationID, SKU: c.SKU}, Count: c.Count,
		Reason: c.Reason, Reference: c.Reference, Source: c.Source,
	}
	if err := e.Validate(); err != nil {
		return nil, e.Key, err
	}
	data, err := s.codec.EncodeEvent(e)
	if err != nil {
		return nil, e.Key, fmt.Errorf("command: encode: %w", err)
	}
	msg := nats.NewMsg(streams.EventSubject(e.Kind, e.Key))
	msg.Data = data
	msg.Header.Set(streams.HeaderContentType, s.codec.ContentType())
	if e.Source != "" {
		msg.Header.Set(streams.HeaderSource, e.Source)
	}
	return msg, e.Key, nil
}

func (s *Service) receipt(ack *jetstream.PubAck, k sellable.Key) sellable.Receipt {
	return sellable.Receipt{
		Stream:    ack.Stream,
		Seq:       ack.Sequence,
		Partition: streams.Partition(k, s.partitions),
		Duplicate: ack.Duplicate,
	}
}
