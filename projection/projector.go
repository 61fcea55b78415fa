package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Projector copies sellable changes into the store through a durable pull
// consumer. Writes run concurrently, at most cfg.MaxInFlight at once; a
// message is acked only once its write succeeded, so the consumer's place
// is exactly what is in the table. Order does not matter: each write
// carries its seq as timestamp.
type Projector struct {
	js    jetstream.JetStream
	store *Store
	cfg   Config
	log   *slog.Logger
	pause backoff
	// written counts successful upserts, for progress logs and tests.
	written atomic.Uint64
}

// NewProjector projects into store with cfg's consumer settings.
func NewProjector(js jetstream.JetStream, store *Store, cfg Config) (*Projector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Projector{
		js: js, store: store, cfg: cfg, log: cfg.logger(),
		pause: backoff{min: cfg.MinBackoff, max: cfg.MaxBackoff},
	}, nil
}

// Written is the number of changes written so far.
func (p *Projector) Written() uint64 { return p.written.Load() }

// ConsumerConfig is the projector's durable consumer: every change from
// the start (the stream keeps one per position, so that is a snapshot),
// explicit acks, never given up on.
func ConsumerConfig(name string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "Scylla projection of sellable changes",
		FilterSubject: streams.SellableFilter,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
		MaxAckPending: 4096,
	}
}

// Run projects until ctx ends, then lets the writes under way finish and
// returns nil. While the stream is missing or NATS is unreachable it
// retries.
func (p *Projector) Run(ctx context.Context) error {
	wait := backoff{min: p.cfg.MinBackoff, max: 2 * time.Second}
	for ctx.Err() == nil {
		err := p.consume(ctx)
		if ctx.Err() != nil {
			break
		}
		d := wait.step()
		p.log.Warn("projector: consumer interrupted, retrying", "err", err, "in", d)
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return nil
}

func (p *Projector) consume(ctx context.Context) error {
	cons, err := p.js.CreateOrUpdateConsumer(ctx, streams.SellableStream, ConsumerConfig(p.cfg.consumer()))
	if err != nil {
		return fmt.Errorf("projection: consumer %s: %w", p.cfg.consumer(), err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2 * p.cfg.MaxInFlight))
	if err != nil {
		return fmt.Errorf("projection: consume: %w", err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	p.log.Info("projector consuming", "stream", streams.SellableStream, "consumer", p.cfg.consumer())

	// Writes outlive ctx so that what was taken is finished and acked on
	// shutdown; each is bounded by the driver's query timeout.
	wctx := context.WithoutCancel(ctx)
	slots := make(chan struct{}, p.cfg.MaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		msg, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return err
		}
		if err != nil {
			p.log.Debug("projector: pull", "err", err) // missed heartbeat: the iterator re-pulls
			continue
		}
		// After a failed write no new one starts until the backoff is
		// over: a down database is probed, not hammered.
		gen, err := p.pause.wait(ctx)
		if err != nil {
			_ = msg.Nak()
			return err
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			p.handle(wctx, msg, gen)
		})
	}
}

func (p *Projector) handle(ctx context.Context, msg jetstream.Msg, gen uint64) {
	pos, err := decode(ctx, p.cfg.Changes, msg)
	if err == nil {
		err = checkChange(pos)
	}
	if errors.Is(err, wire.ErrRegistry) {
		// The change may be fine; the schema registry is not reachable.
		_ = msg.NakWithDelay(p.cfg.MaxBackoff)
		return
	}
	if err != nil {
		// Retrying cannot fix it: drop it loudly rather than block.
		p.log.Error("projector: terminating bad change", "subject", msg.Subject(), "err", err)
		_ = msg.TermWithReason(err.Error())
		return
	}
	if err := p.store.Upsert(ctx, pos); err != nil {
		d, longer := p.pause.fail(gen)
		level := slog.LevelDebug
		if longer { // once per backoff step, not once per message
			level = slog.LevelWarn
		}
		p.log.Log(ctx, level, "projector: write failed, pausing; changes will be redelivered", "err", err, "pause", d)
		_ = msg.NakWithDelay(d)
		return
	}
	if p.pause.ok() {
		p.log.Info("projector: writes succeed again")
	}
	p.written.Add(1)
	// A lost ack only means a redelivery, which the write timestamp makes
	// harmless.
	if err := msg.Ack(); err != nil {
		p.log.Debug("projector: ack", "err", err)
	}
}

// decode reads a change and checks that it is about the position its
// subject names.
func decode(ctx context.Context, changes *wire.ChangeCodec, msg jetstream.Msg) (sellable.Position, error) {
	pos, err := changes.DecodeChange(ctx, msg.Headers(), msg.Data())
	if err != nil {
		return pos, fmt.Errorf("%w: %w", ErrBadChange, err)
	}
	if want := streams.SellableSubject(sellable.Key{LocationID: pos.LocationID, SKU: pos.SKU}); want != msg.Subject() {
		return pos, fmt.Errorf("%w: body names %s", ErrBadChange, want)
	}
	return pos, nil
}

// backoff is a pause that doubles with each failure up to max and ends at
// the first success. Each pause is a generation: failures of writes let
// through before the current pause was set do not lengthen it again, so
// 64 writes failing together are one failure.
type backoff struct {
	min, max time.Duration
	mu       sync.Mutex
	delay    time.Duration
	until    time.Time
	gen      uint64
}

// fail records the failure of an attempt let through in generation gen
// and returns the pause in force, and whether this failure set it.
func (b *backoff) fail(gen uint64) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.delay != 0 && gen != b.gen {
		return b.delay, false
	}
	b.delay = min(max(2*b.delay, b.min), b.max)
	b.until = time.Now().Add(b.delay)
	b.gen++
	return b.delay, true
}

// step lengthens the pause unconditionally, for one-at-a-time retries.
func (b *backoff) step() time.Duration {
	b.mu.Lock()
	gen := b.gen
	b.mu.Unlock()
	d, _ := b.fail(gen)
	return d
}

// ok ends the pause; it reports whether one was in force.
func (b *backoff) ok() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	was := b.delay != 0
	b.delay, b.until = 0, time.Time{}
	return was
}

// wait returns when no pause is in force, with the generation it let the
// caller through in, or when ctx ends.
func (b *backoff) wait(ctx context.Context) (uint64, error) {
	for {
		b.mu.Lock()
		d, gen := time.Until(b.until), b.gen
		b.mu.Unlock()
		if d <= 0 {
			return gen, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(d):
		}
	}
}
