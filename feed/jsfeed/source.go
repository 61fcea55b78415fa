package jsfeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Config bounds what the subscribers of one process may hold.
type Config struct {
	// Queue is how many live changes may wait for one subscriber, in its
	// queue or still in the stream; one more and it is dropped
	// (feed.ErrSlowConsumer).
	Queue int
	// Pull is how many changes the consumer of one subscriber fetches
	// ahead from the server.
	Pull int
	// MaxSubscribers caps the subscriptions open at once.
	MaxSubscribers int
	// Logger receives undecodable changes; nil is slog.Default().
	Logger *slog.Logger
}

// DefaultConfig holds 1,024 waiting changes per subscriber (about 300
// KB) and at most 1,000 subscribers.
func DefaultConfig() Config {
	return Config{Queue: 1024, Pull: 256, MaxSubscribers: 1000, Logger: slog.Default()}
}

// Validate reports every setting out of range.
func (c Config) Validate() error {
	var errs []error
	if c.Queue < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: queue %d must be at least 1", c.Queue))
	}
	if c.Pull < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: pull %d must be at least 1", c.Pull))
	}
	if c.MaxSubscribers < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: max subscribers %d must be at least 1", c.MaxSubscribers))
	}
	return errors.Join(errs...)
}

// Source subscribes readers to the sellable changes.
type Source struct {
	js      jetstream.JetStream
	changes *wire.ChangeCodec
	cfg     Config
	log     *slog.Logger
	open    atomic.Int64
	dropped atomic.Uint64
}

// NewSource reads changes from js, decoding them with changes (Avro or
// JSON, as the calculator writes them).
func NewSource(js jetstream.JetStream, changes *wire.ChangeCodec, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Source{js: js, changes: changes, cfg: cfg, log: log}, nil
}

// Stats are the source's subscriber counts.
type Stats struct {
	// Open is how many subscriptions are open now.
	Open int64
	// Dropped counts the subscriptions ended as slow consumers.
	Dropped uint64
}

// Stats reports the subscriber counts.
func (s *Source) Stats() Stats { return Stats{Open: s.open.Load(), Dropped: s.dropped.Load()} }

// Subscribe starts a subscription to the changes f selects from c on.
// The consumer exists on the server when Subscribe returns, so a change
// stored afterwards is delivered even with a cursor of "from now on". The
// subscription ends when ctx does, when it is closed, or when its reader
// falls behind (feed.ErrSlowConsumer).
func (s *Source) Subscribe(ctx context.Context, f feed.Filter, c feed.Cursor) (*feed.Subscription, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if s.open.Add(1) > int64(s.cfg.MaxSubscribers) {
		s.open.Add(-1)
		return nil, fmt.Errorf("%w: %d open", feed.ErrTooManySubscribers, s.cfg.MaxSubscribers)
	}
	release := func() { s.open.Add(-1) }
	cc := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{streams.SellableSubjectFilter(f.LocationID, f.SKU)},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	}
	if c.Resume {
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, c.After+1
	}
	cons, err := s.js.OrderedConsumer(ctx, streams.SellableStream, cc)
	if err != nil {
		release()
		return nil, fmt.Errorf("jsfeed: subscribe: %w", err)
	}
	// Caught up from the start when there is nothing stored to catch up
	// with; otherwise once a message says nothing more is pending.
	live := atomic.Bool{}
	live.Store(!c.Resume || cons.CachedInfo().NumPending == 0)
	sub := feed.NewSubscription(s.cfg.Queue, c.After)
	// The consumer's goroutine decodes within the subscription's life.
	sctx, cancel := context.WithCancel(ctx)
	handle := func(msg jetstream.Msg) {
		meta, err := msg.Metadata()
		if err != nil {
			return
		}
		p, err := s.changes.DecodeChange(sctx, msg.Headers(), msg.Data())
		if err != nil {
			// An operator wants to know, and a reader cannot do better
			// than skip it: the next change of that position replaces it.
			s.log.Warn("feed: undecodable change skipped", "subject", msg.Subject(), "seq", meta.Sequence.Stream, "err", err)
			return
		}
		ch := feed.Change{ID: meta.Sequence.Stream, Position: p}
		if !live.Load() {
			sub.Put(sctx, ch)
			if meta.NumPending == 0 {
				live.Store(true)
			}
			return
		}
		// Behind the stream, not only behind its queue: the changes the
		// subscriber has not been handed wait in the stream, where the
		// queue's bound cannot see them. A live subscriber with more of
		// them than a queue holds is as slow as one whose queue overflows.
		if meta.NumPending > uint64(s.cfg.Queue) {
			sub.Close(fmt.Errorf("%w: more than %d changes waiting (%d of them in the stream)", feed.ErrSlowConsumer, s.cfg.Queue, meta.NumPending))
			cancel()
			return
		}
		if !sub.Offer(ch) {
			cancel()
		}
	}
	cctx, err := cons.Consume(handle, jetstream.PullMaxMessages(s.cfg.Pull))
	if err != nil {
		cancel()
		release()
		return nil, fmt.Errorf("jsfeed: consume: %w", err)
	}
	go func() {
		select {
		case <-sctx.Done():
			sub.Close(nil)
		case <-sub.Done():
			cancel()
		}
		cctx.Stop()
		if errors.Is(sub.Err(), feed.ErrSlowConsumer) {
			s.dropped.Add(1)
		}
		release()
	}()
	return sub, nil
}
