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

// AsyncWindow is how many of a Service's publishes may await their acks
// at once (every handler's command, and every command of every batch in
// flight). A publish that finds it full waits up to StallWait for a
// slot, then is refused with ErrBusy rather than queueing without bound.
const AsyncWindow = 4096

// StallWait is how long a publish waits for a slot in a full window.
const StallWait = 200 * time.Millisecond

// ErrBusy means the publish window was full for StallWait: the command
// was not sent. It is an ErrUnavailable (503) that says when to retry
// (Retry-After), since the cause is load, not an outage.
var ErrBusy = fmt.Errorf("%w: too many commands awaiting their acks", sellable.ErrUnavailable)

// Service appends commands to the event stream.
type Service struct {
	js jetstream.JetStream
	// pub publishes the commands asynchronously: one reply subscription
	// for every ack, so that concurrent handlers pipeline their publishes
	// on the connection and none waits on a request of its own. It is
	// the Service's own, apart from js, so that no other user of the
	// connection (the calculator's KV writes in the all-in-one) can fill
	// the window the handlers need; its ack timeout (PublishTimeout)
	// fails a publish whose ack never comes and frees its slot, so the
	// handlers need no timer of their own.
	pub        jetstream.JetStream
	window     int
	codec      wire.EventCodec
	partitions int
	idKey      []byte
	// contentType is every message's Content-Type header value, shared.
	contentType []string
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

// WithAsyncWindow replaces AsyncWindow (n ≥ 1); tests fill a small one.
func WithAsyncWindow(n int) Option {
	return func(s *Service) { s.window = n }
}

// NewService publishes with codec into a stream of the given partitions.
func NewService(js jetstream.JetStream, codec wire.EventCodec, partitions int, opts ...Option) *Service {
	s := &Service{js: js, codec: codec, partitions: partitions, window: AsyncWindow}
	if codec != nil { // nil in a Service only listed, as when routes are enumerated
		s.contentType = []string{codec.ContentType()}
	}
	for _, o := range opts {
		o(s)
	}
	s.pub = js
	if js == nil { // a Service only listed, as when routes are enumerated
		return s
	}
	// Only a window below 1 is refused; then publish through js's own.
	if pub, err := jetstream.New(js.Conn(), jetstream.WithPublishAsyncMaxPending(s.window),
		jetstream.WithPublishAsyncTimeout(PublishTimeout)); err == nil {
		s.pub = pub
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
	ack, err := s.publish(ctx, msg)
	if err != nil {
		return sellable.Receipt{}, err
	}
	if ack.Duplicate {
		// Rare (a retry): a timeout of its own for the reads is no cost.
		ctx, cancel := context.WithTimeout(ctx, PublishTimeout)
		defer cancel()
		return (&originals{js: s.js}).receipt(ctx, ack, hash)
	}
	return s.receipt(ack, key), nil
}

// publish sends msg through the Service's async publisher and waits for
// its ack, the ack timeout (PublishTimeout) or the end of ctx, whichever
// comes first. Any failure is an ErrUnavailable; a full window is ErrBusy.
func (s *Service) publish(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error) {
	f, err := s.pub.PublishMsgAsync(msg)
	if err != nil {
		return nil, publishError(err)
	}
	select {
	case ack := <-f.Ok():
		return ack, nil
	case err := <-f.Err():
		return nil, publishError(err)
	case <-ctx.Done():
		// The publish may still be stored; a retry with the same
		// idempotency key settles it, as after a lost ack.
		return nil, fmt.Errorf("%w: %w", sellable.ErrUnavailable, ctx.Err())
	}
}

// publishError wraps a failed publish: ErrBusy when the window stayed
// full, else ErrUnavailable.
func publishError(err error) error {
	if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
		return fmt.Errorf("%w: %w", ErrBusy, err)
	}
	return fmt.Errorf("%w: %w", sellable.ErrUnavailable, err)
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
		ack, err := s.publish(ctx, msgs[0])
		if err != nil {
			return nil, fmt.Errorf("command 0: %w", err)
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
		f, err := s.pub.PublishMsgAsync(msgs[i])
		if err != nil {
			return nil, fmt.Errorf("command %d: %w", i, publishError(err))
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
			return nil, fmt.Errorf("command %d: %w", i, publishError(err))
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
	// The header map is built directly (the keys are canonical, as Set
	// would make them), with room for the idempotency headers, and the
	// content type's value is the Service's one slice, which nothing
	// writes to: Set allocated a slice per header per command.
	h := make(nats.Header, 4)
	h[streams.HeaderContentType] = s.contentType
	if e.Source != "" {
		h[streams.HeaderSource] = []string{e.Source}
	}
	return &nats.Msg{Subject: streams.EventSubject(e.Kind, e.Key), Data: data, Header: h}, e.Key, nil
}

func (s *Service) receipt(ack *jetstream.PubAck, k sellable.Key) sellable.Receipt {
	return sellable.Receipt{
		Stream:    ack.Stream,
		Seq:       ack.Sequence,
		Partition: streams.Partition(k, s.partitions),
		Duplicate: ack.Duplicate,
	}
}
