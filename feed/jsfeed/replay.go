package jsfeed

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/streams"
)

// replay brings a resuming member from its cursor to the hub's live
// changes, without a gap or a duplicate. The member is attached to the
// hub already, buffering: from its first buffered change B on, the hub
// hands it every change its filter selects, in stream order. An ordered
// consumer of its own reads from after+1 and queues what it reads until
// it reads a sequence at or past B; everything stored before B was
// either read by then or replaced by a newer change of its position at
// B or later (SELLABLE keeps one change per position), which the buffer
// holds. The member then drains the buffer, skipping what the replay
// already queued, and turns live. The replay waits for its reader (Put):
// while it catches up the stream holds the rest, and a buffer that fills
// meanwhile is discarded and started again, as the replay will read what
// it held. It returns a function that stops the replay.
func (s *Source) replay(ctx context.Context, m *member, after uint64) (stop func(), err error) {
	cons, err := s.js.OrderedConsumer(ctx, streams.SellableStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{streams.SellableSubjectFilter(m.f.LocationID, m.f.SKU)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    after + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("jsfeed: subscribe: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(s.cfg.Pull))
	if err != nil {
		return nil, fmt.Errorf("jsfeed: consume: %w", err)
	}
	go func() {
		defer it.Stop()
		last := after
		for {
			msg, err := it.Next()
			if err != nil {
				if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					m.sub.Close(fmt.Errorf("jsfeed: replay: %w", err))
				}
				return
			}
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			seq := meta.Sequence.Stream
			if m.met(seq) {
				it.Stop()
				m.drain(ctx, last)
				return
			}
			ch, ok := s.decode(ctx, msg, seq)
			if !ok {
				continue
			}
			if !m.sub.Put(ctx, ch) {
				return
			}
			last = seq
		}
	}()
	return it.Stop, nil
}

// met reports whether the replay, reading seq, reached the buffer's
// first change; from then on the buffer is kept whole.
func (m *member) met(seq uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.buf) == 0 || seq < m.buf[0].ID {
		return false
	}
	m.draining = true
	return true
}

// drain queues the buffered changes after last, in order, until the
// buffer is empty, then turns the member live: the hub's next change goes
// straight to the queue, after everything buffered before it.
func (m *member) drain(ctx context.Context, last uint64) {
	for {
		m.mu.Lock()
		if len(m.buf) == 0 {
			m.live.Store(true)
			m.mu.Unlock()
			return
		}
		batch := m.buf
		m.buf, m.spare = m.spare[:0], batch
		m.mu.Unlock()
		for _, ch := range batch {
			if ch.ID <= last {
				continue
			}
			if !m.sub.Put(ctx, ch) {
				return
			}
			last = ch.ID
		}
	}
}
