package calculator

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// rebuild folds every stored event of k again, from the start of the
// stream through the newest event of k stored now. The writer calls it
// for a key an operator deleted or purged from the bucket: that says the
// value is wrong, and the event log is what the value is made of. Events
// that cannot be decoded are skipped, as they were dead-lettered when the
// partition first met them; an unreachable registry fails the rebuild, so
// that the batch is retried rather than folded without an event.
func (p *partition) rebuild(ctx context.Context, k sellable.Key) (sellable.Position, error) {
	pos := sellable.Position{LocationID: k.LocationID, SKU: k.SKU}
	// Every kind of k: its whole history.
	subjects := []string{streams.KeyHistoryFilter(p.id, k)}
	events, err := p.js.Stream(ctx, streams.EventStream)
	if err != nil {
		return pos, fmt.Errorf("rebuild %s: %w", streams.KeyToken(k), err)
	}
	// through is where the fold stops: the newest event of k now, which is
	// at or after every event of the batch being written.
	var through uint64
	for _, s := range subjects {
		m, err := events.GetLastMsgForSubject(ctx, s)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return pos, fmt.Errorf("rebuild %s: last of %s: %w", streams.KeyToken(k), s, err)
		}
		through = max(through, m.Sequence)
	}
	if through == 0 {
		return pos, nil // no history left (the stream's limits removed it)
	}
	cons, err := p.js.OrderedConsumer(ctx, streams.EventStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: subjects,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return pos, fmt.Errorf("rebuild %s: consumer: %w", streams.KeyToken(k), err)
	}
	it, err := cons.Messages()
	if err != nil {
		return pos, fmt.Errorf("rebuild %s: consume: %w", streams.KeyToken(k), err)
	}
	defer it.Stop()
	folded, skipped := 0, 0
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return pos, fmt.Errorf("rebuild %s: %w", streams.KeyToken(k), err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return pos, fmt.Errorf("rebuild %s: metadata: %w", streams.KeyToken(k), err)
		}
		ev, _, err := p.codecs.DecodeStored(ctx, m.Subject(), m.Headers(), m.Data())
		switch {
		case errors.Is(err, wire.ErrRegistry):
			return pos, fmt.Errorf("rebuild %s: %w", streams.KeyToken(k), err)
		case err != nil:
			skipped++
		default:
			pos.Apply(ev.Kind, ev.Count, meta.Sequence.Stream, meta.Timestamp.UTC())
			folded++
		}
		// NumPending 0 also ends it, should the newest event have been
		// removed since it was looked up.
		if meta.Sequence.Stream >= through || meta.NumPending == 0 {
			break
		}
	}
	p.log.Warn("view key was deleted or purged; rebuilt it from the event log",
		"partition", p.id, "key", streams.KeyToken(k), "events", folded, "undecodable", skipped, "seq", pos.Seq)
	return pos, nil
}
