package jsfeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/wire"
)

// Config bounds what the subscribers of one process may hold.
type Config struct {
	// Queue is how many live changes may wait for one subscriber, in its
	// queue or still in the stream ahead of the hub; one more and it is
	// dropped (feed.ErrSlowConsumer). A resuming subscriber buffers as
	// many live changes while it replays.
	Queue int
	// Behind is how many changes the hub's one consumer may be behind
	// the stream before every live subscriber is dropped as slow. Unlike
	// a queue's bound it guards no memory (the changes wait in the
	// stream) but the subscribers' freshness: the whole process is
	// behind, not one reader, so it is set well above a burst, which
	// the hub reads through in a moment (a bound of one queue dropped
	// all 100 subscribers of a load run within 1.3 s, BENCHMARKS.md).
	Behind int
	// Pull is how many changes the hub's consumer, and the consumer of a
	// subscriber that replays, fetch ahead from the server.
	Pull int
	// MaxSubscribers caps the subscriptions open at once.
	MaxSubscribers int
	// Logger receives undecodable changes; nil is slog.Default().
	Logger *slog.Logger
	// Frame encodes a change the way readers write it (api.ChangeFrame:
	// the Server-Sent Event), so that the hub encodes each change once
	// for all its subscribers; nil leaves the encoding to each reader.
	Frame func(feed.Change) []byte
}

// DefaultConfig holds 1,024 waiting changes per subscriber (about 300
// KB), at most 1,000 subscribers, and lets the hub fall 16,384 changes
// behind the stream (about 3 s at 5,000 changes/s).
func DefaultConfig() Config {
	return Config{Queue: 1024, Behind: 16384, Pull: 256, MaxSubscribers: 1000, Logger: slog.Default()}
}

// Validate reports every setting out of range.
func (c Config) Validate() error {
	var errs []error
	if c.Queue < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: queue %d must be at least 1", c.Queue))
	}
	if c.Behind < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: behind %d must be at least 1", c.Behind))
	}
	if c.Pull < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: pull %d must be at least 1", c.Pull))
	}
	if c.MaxSubscribers < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: max subscribers %d must be at least 1", c.MaxSubscribers))
	}
	return errors.Join(errs...)
}

// Source subscribes readers to the sellable changes. Live changes come
// from one hub per Source (hub.go): one ordered consumer on the SELLABLE
// stream, each change decoded and encoded once and handed to every
// subscriber whose filter selects it. A subscriber that resumes replays
// from a consumer of its own until it meets the hub (replay.go).
type Source struct {
	js      jetstream.JetStream
	changes *wire.ChangeCodec
	cfg     Config
	log     *slog.Logger
	open    atomic.Int64
	dropped atomic.Uint64

	mu  sync.Mutex // guards hub
	hub *hub       // nil while nobody subscribes
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
// The hub's consumer exists on the server when Subscribe returns, so a
// change stored afterwards is delivered even with a cursor of "from now
// on". The subscription ends when ctx does, when it is closed, or when
// its reader falls behind (feed.ErrSlowConsumer).
func (s *Source) Subscribe(ctx context.Context, f feed.Filter, c feed.Cursor) (*feed.Subscription, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if s.open.Add(1) > int64(s.cfg.MaxSubscribers) {
		s.open.Add(-1)
		return nil, fmt.Errorf("%w: %d open", feed.ErrTooManySubscribers, s.cfg.MaxSubscribers)
	}
	sub := feed.NewSubscription(s.cfg.Queue, c.After)
	m := &member{sub: sub, f: f, queue: s.cfg.Queue, behind: s.cfg.Behind}
	if c.Resume {
		// Attached before the replay starts, so that every live change
		// from here on is either replayed or buffered.
		m.buf, m.spare = make([]feed.Change, 0, s.cfg.Queue), make([]feed.Change, 0, s.cfg.Queue)
	} else {
		m.live.Store(true)
	}
	h, err := s.attach(ctx, m)
	if err != nil {
		s.open.Add(-1)
		return nil, err
	}
	// The replay's goroutine and the hub's work within the subscription's
	// life.
	sctx, cancel := context.WithCancel(ctx)
	stopReplay := func() {}
	if c.Resume {
		stopReplay, err = s.replay(sctx, m, c.After)
		if err != nil {
			cancel()
			s.detach(h, m)
			s.open.Add(-1)
			return nil, err
		}
	}
	go func() {
		select {
		case <-sctx.Done():
			sub.Close(nil)
		case <-sub.Done():
		}
		cancel()
		stopReplay()
		s.detach(h, m)
		if errors.Is(sub.Err(), feed.ErrSlowConsumer) {
			s.dropped.Add(1)
		}
		s.open.Add(-1)
	}()
	return sub, nil
}

// decode reads a change and encodes its frame; an undecodable change is
// logged and skipped (ok false): a reader cannot do better, and the next
// change of that position replaces it.
func (s *Source) decode(ctx context.Context, msg jetstream.Msg, seq uint64) (feed.Change, bool) {
	p, err := s.changes.DecodeChange(ctx, msg.Headers(), msg.Data())
	if err != nil {
		s.log.Warn("feed: undecodable change skipped", "subject", msg.Subject(), "seq", seq, "err", err)
		return feed.Change{}, false
	}
	ch := feed.Change{ID: seq, Position: p}
	if s.cfg.Frame != nil {
		ch.Frame = s.cfg.Frame(ch)
	}
	return ch, true
}
