package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// Projector copies sellable changes into the store: every value stored in
// the view buckets, read from their own streams KV_sellable_p<i> through
// one durable pull consumer per bucket (the buckets are the one store of
// each change, issue 15.2). Writes run concurrently, at most
// cfg.MaxInFlight at once over all partitions; a message is acked only
// once its write succeeded, so each consumer's place is exactly what is
// in the table. Order does not matter: each write carries its seq as
// timestamp.
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

// ConsumerName is the durable consumer of partition i's bucket stream for
// a projection whose consumers are called name.
func ConsumerName(name string, i int) string { return name + "_p" + strconv.Itoa(i) }

// ConsumerConfig is the projector's durable consumer of partition i's
// bucket stream: every value from the start (the bucket keeps one per
// position, so that is a snapshot, then the changes), explicit acks,
// never given up on.
func ConsumerConfig(name string, i int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       ConsumerName(name, i),
		Description:   "Scylla projection of the sellable view, partition " + strconv.Itoa(i),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
		MaxAckPending: 4096,
	}
}

// Run projects until ctx ends, then lets the writes under way finish and
// returns nil. While the streams are missing or NATS is unreachable it
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

// consume reads every partition's bucket stream until ctx ends or one
// of them fails. The partition count is the event stream's, as every
// reader of the view learns it (streams.Partitions).
func (p *Projector) consume(ctx context.Context) error {
	n, err := streams.Partitions(ctx, p.js)
	if err != nil {
		return fmt.Errorf("projection: %w", err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	iters := make([]jetstream.MessagesContext, n)
	for i := range iters {
		name := ConsumerName(p.cfg.consumer(), i)
		cons, err := p.js.CreateOrUpdateConsumer(ctx, kv.StreamName(i), ConsumerConfig(p.cfg.consumer(), i))
		if err != nil {
			return fmt.Errorf("projection: consumer %s on %s: %w", name, kv.StreamName(i), err)
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(max(2*p.cfg.MaxInFlight/n, 16)))
		if err != nil {
			return fmt.Errorf("projection: consume %s: %w", kv.StreamName(i), err)
		}
		iters[i] = it
		stop := context.AfterFunc(ctx, it.Stop)
		defer stop()
		defer it.Stop()
	}
	p.log.Info("projector consuming", "streams", kv.StreamName(0)+"…"+kv.StreamName(n-1), "consumer", ConsumerName(p.cfg.consumer(), 0)+"…")

	// Writes outlive ctx so that what was taken is finished and acked on
	// shutdown; each is bounded by the driver's query timeout.
	wctx := context.WithoutCancel(ctx)
	slots := make(chan struct{}, p.cfg.MaxInFlight)
	var writes, readers sync.WaitGroup
	defer writes.Wait()
	for i, it := range iters {
		readers.Go(func() {
			cancel(p.read(ctx, wctx, i, it, slots, &writes))
		})
	}
	readers.Wait()
	return context.Cause(ctx)
}

// read hands partition i's messages to writers until its iterator
// closes or ctx ends, and returns why it stopped.
func (p *Projector) read(ctx, wctx context.Context, i int, it jetstream.MessagesContext, slots chan struct{}, writes *sync.WaitGroup) error {
	for {
		msg, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return fmt.Errorf("projection: %s: %w", kv.StreamName(i), err)
		}
		if err != nil {
			p.log.Debug("projector: pull", "stream", kv.StreamName(i), "err", err) // missed heartbeat: the iterator re-pulls
			continue
		}
		// After a failed write no new one starts until the backoff is
		// over: a down database is probed, not hammered.
		gen, err := p.pause.wait(ctx)
		if err != nil {
			_ = msg.Nak()
			return err
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			_ = msg.Nak()
			return ctx.Err()
		}
		writes.Go(func() {
			defer func() { <-slots }()
			p.handle(wctx, i, msg, gen)
		})
	}
}

func (p *Projector) handle(ctx context.Context, i int, msg jetstream.Msg, gen uint64) {
	if kv.IsMarker(msg.Headers()) {
		// An operator deleted the view key to have it rebuilt: the
		// calculator writes the rebuilt value on the key's next event,
		// which comes here as a change. The row stays until then.
		_ = msg.Ack()
		return
	}
	pos, err := decode(i, msg)
	if err == nil {
		err = checkChange(pos)
	}
	if errors.Is(err, kv.ErrValueVersion) {
		// Written by a newer version: fine, but not for this one. Keep
		// it for the projector that replaces this one rather than lose it.
		p.log.Warn("projector: value of a newer version; upgrade the projector", "subject", msg.Subject(), "err", err)
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

// decode reads a view value from partition i's bucket stream and checks
// that it is about the position its key names.
func decode(i int, msg jetstream.Msg) (sellable.Position, error) {
	k, err := kv.KeyOfSubject(i, msg.Subject())
	if err != nil {
		return sellable.Position{}, fmt.Errorf("%w: %w", ErrBadChange, err)
	}
	pos, err := kv.DecodeValue(msg.Data())
	if errors.Is(err, kv.ErrValueVersion) {
		return pos, err
	}
	if err != nil {
		return pos, fmt.Errorf("%w: %w", ErrBadChange, err)
	}
	if got := (sellable.Key{LocationID: pos.LocationID, SKU: pos.SKU}); got != k {
		return pos, fmt.Errorf("%w: value of key %s names %s", ErrBadChange, streams.KeyToken(k), streams.KeyToken(got))
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
