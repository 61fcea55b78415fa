package calculator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/metrics"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// partition folds one partition's events while this instance owns it.
type partition struct {
	id      int
	js      jetstream.JetStream
	writer  *kv.Writer
	offsets *offsets
	codecs  *wire.Codecs
	cfg     Config
	log     *slog.Logger
	stats   *Stats
	// abandoned is set when a stop left a batch in process: its goroutine
	// may still use the writer, which is then left alone.
	abandoned bool
	// fold groups each batch, reused from one to the next (process runs
	// one batch at a time; an abandoned one is the last).
	fold *batchFold
}

// run consumes the partition from its checkpoint until ctx ends, then
// saves the checkpoint of what it finished.
func (p *partition) run(ctx context.Context) error {
	start, err := p.offsets.get(ctx, p.id)
	if err != nil {
		return err
	}
	occ := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{streams.PartitionFilter(p.id)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if start > 0 {
		occ.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		occ.OptStartSeq = start + 1
	}
	cons, err := p.js.OrderedConsumer(ctx, streams.EventStream, occ)
	if err != nil {
		return fmt.Errorf("calculator: partition %d consumer: %w", p.id, err)
	}
	msgs := make(chan jetstream.Msg, p.cfg.MaxBatch)
	done := make(chan struct{})
	defer close(done)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-done:
		}
	}, jetstream.PullMaxMessages(p.cfg.MaxBatch))
	if err != nil {
		return fmt.Errorf("calculator: partition %d consume: %w", p.id, err)
	}
	defer cc.Stop()
	p.log.Info("partition started", "partition", p.id, "from", start+1)

	// A batch is done once its KV writes succeeded and its dead letters
	// were acknowledged. The acks of one batch's dead letters are awaited
	// after the next batch's KV writes, so their round trip overlaps
	// useful work; only a done batch moves the checkpoint. The KV write
	// is the change itself: its bucket republishes it to live
	// subscribers and its stream is the change log (kv.BucketConfig), so
	// nothing else is announced.
	through := start // highest sequence fully done
	saved := start
	var pending flight
	settle := func(ctx context.Context) error {
		if err := waitAcks(ctx, pending.acks); err != nil {
			return err
		}
		through = max(through, pending.last)
		pending = flight{}
		p.stats.progressed(p.id, through)
		return nil
	}
	tick := time.NewTicker(p.cfg.CheckpointEvery)
	defer tick.Stop()
	batch := make([]jetstream.Msg, 0, p.cfg.MaxBatch)
	for {
		var err error
		select {
		case <-ctx.Done():
			return p.stop(settle, &saved, &through)
		case <-tick.C:
			if err = settle(ctx); err == nil && through > saved {
				if err := p.offsets.put(ctx, p.id, through); err != nil {
					p.log.Warn("checkpoint failed", "partition", p.id, "err", err)
				} else {
					saved = through
				}
			}
		case m := <-msgs:
			batch = append(batch[:0], m)
			batch = drain(msgs, batch, p.cfg.MaxBatch)
			var next flight
			if next, err = p.processOrAbandon(ctx, batch); err == nil {
				err = settle(ctx)
				pending = next
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return p.stop(settle, &saved, &through)
			}
			// The state of this batch is unknown: restart from the
			// checkpoint rather than skip or reorder anything.
			return fmt.Errorf("calculator: partition %d: %w", p.id, err)
		}
	}
}

// flight is a processed batch whose dead letters may be unacknowledged.
type flight struct {
	last uint64
	acks []jetstream.PubAckFuture
}

// stop settles what is in flight and saves the checkpoint on the way
// out, with a fresh deadline since the run's context is over.
func (p *partition) stop(settle func(context.Context) error, saved, through *uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := settle(ctx); err != nil {
		p.log.Warn("dead letters unconfirmed at stop; the next owner replays them", "partition", p.id, "err", err)
	}
	if *through <= *saved {
		return nil
	}
	return p.offsets.put(ctx, p.id, *through)
}

// drain appends whatever is already waiting, up to max, without blocking:
// under load batches grow, when idle each event goes alone at once.
func drain(msgs <-chan jetstream.Msg, batch []jetstream.Msg, max int) []jetstream.Msg {
	for len(batch) < max {
		select {
		case m := <-msgs:
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

// processOrAbandon is process, except that it returns as soon as ctx ends
// even if the batch is still in process: a decode that never ends must
// not keep the partition, and so the process, from stopping. The batch is
// then left to its goroutine; nothing it still does moves the checkpoint,
// and its writes are compare-and-set with sequences like a stale owner's.
// The time a batch takes is tracked, so that one that never ends shows as
// stalled.
func (p *partition) processOrAbandon(ctx context.Context, batch []jetstream.Msg) (flight, error) {
	type result struct {
		f   flight
		err error
	}
	p.stats.batchBegan(p.id, time.Now())
	defer p.stats.batchEnded(p.id)
	res := make(chan result, 1)
	go func() {
		f, err := p.process(ctx, batch)
		res <- result{f, err}
	}()
	select {
	case r := <-res:
		return r.f, r.err
	case <-ctx.Done():
		p.log.Warn("partition stopping with a batch still in process; leaving it", "partition", p.id, "events", len(batch))
		p.abandoned = true
		return flight{}, ctx.Err()
	}
}

// process applies one batch: dead-letters what cannot be decoded and
// folds the rest per key in one compare-and-set write each. It returns
// the batch's last stream sequence with the acks of its dead letters
// still to come. A key whose fold changes nothing (a replay from an older
// checkpoint, a briefly doubled owner) is not written, so its bucket
// republishes nothing: every value reaches inventory.sellable.> once.
func (p *partition) process(ctx context.Context, batch []jetstream.Msg) (flight, error) {
	var last, lag uint64
	if p.fold == nil {
		p.fold = newBatchFold()
	}
	fold := p.fold
	fold.reset()
	var dead []jetstream.PubAckFuture
	for _, m := range batch {
		meta, err := m.Metadata()
		if err != nil {
			return flight{}, fmt.Errorf("metadata: %w", err)
		}
		last, lag = meta.Sequence.Stream, meta.NumPending
		ev, _, err := p.codecs.DecodeStored(ctx, m.Subject(), m.Headers(), m.Data())
		if errors.Is(err, wire.ErrRegistry) {
			return flight{}, err // the message may be fine: retry, never dead-letter
		}
		if err != nil {
			f, err := p.deadLetter(ctx, m, meta.Sequence.Stream, err)
			if err != nil {
				return flight{}, err
			}
			dead = append(dead, f)
			continue
		}
		fold.add(ev, meta.Sequence.Stream, meta.Timestamp.UTC())
	}
	began := time.Now()
	_, err := p.writer.Update(ctx, fold.keys, func(k sellable.Key, cur sellable.Position) (sellable.Position, bool) {
		cur.LocationID, cur.SKU = k.LocationID, k.SKU
		changed := fold.apply(k, &cur)
		return cur, changed
	})
	if err != nil {
		return flight{}, err
	}
	metrics.KVWriteSeconds.Observe(time.Since(began).Seconds())
	p.stats.add(p.id, len(batch)-len(dead), len(dead), last, lag)
	return flight{last: last, acks: dead}, nil
}

// deadLetter sends m to the dead-letter stream with the reason, built by
// deadLetterMsg so that it always fits in one message.
func (p *partition) deadLetter(ctx context.Context, m jetstream.Msg, seq uint64, reason error) (jetstream.PubAckFuture, error) {
	why := reason.Error()
	p.log.Warn("dead-lettering event", "partition", p.id, "seq", seq, "subject", clip(m.Subject(), maxDeadValue), "reason", clip(why, maxDeadReason))
	dl := deadLetterMsg(p.id, m.Subject(), m.Headers(), m.Data(), seq, why, p.js.Conn().MaxPayload())
	f, err := kv.PublishAsync(ctx, p.js, dl)
	if err != nil {
		return nil, fmt.Errorf("dead-letter seq %d: %w", seq, err)
	}
	return f, nil
}

func waitAcks(ctx context.Context, fs []jetstream.PubAckFuture) error {
	var errs []error
	for _, f := range fs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}
