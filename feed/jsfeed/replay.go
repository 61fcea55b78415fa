package jsfeed

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/feed"
)

// replay brings a resuming member from its cursor to the hub's live
// changes, without a gap or a duplicate, one partition at a time in
// parallel: each partition's stream is ordered, the partitions are not
// ordered among themselves, so the switch-over is per partition.
//
// The member is attached to the hub already, buffering: from the first
// change B it buffers of partition p on, the hub hands it every change of
// p its filter selects, in stream order. An ordered consumer of its own
// (filtered on the server) reads p from after[p]+1 and queues what it
// reads until p has met the hub: the replay reads a sequence at or past
// B, or past the hub's cursor in p (the hub will hand that change over
// itself), or the last change stored (nothing pending after it). Every
// change of p before that point was either read by the replay or replaced
// by a newer value of its position (a bucket keeps one per key), which
// the buffer holds. A drain then queues p's buffer, skipping what the
// replay queued, until every partition has met the hub, their buffers are
// empty, and the hub has read as far as the member's own cursor in every
// partition; then the member turns live and takes the hub's changes and
// ids as they are.
//
// While a member replays, each change it queues is stamped with its own
// cursor (replayed and drained changes are encoded per member); the
// replays and the drain queue one at a time (member.put), so ids reach
// the reader in increasing order. The replays wait for the reader (Put):
// while they catch up the streams hold the rest, and a buffer that fills
// meanwhile is discarded and started again if its partition has not met
// the hub, as the replay will read what it held. It returns a function
// that stops the replays.
func (s *Source) replay(ctx context.Context, h *hub, m *member, after feed.Cursor) (stop func(), err error) {
	var its []jetstream.MessagesContext
	stopAll := func() {
		for _, it := range its {
			it.Stop()
		}
	}
	type start struct {
		it      jetstream.MessagesContext
		pending uint64
	}
	starts := make([]start, len(after))
	for p, a := range after {
		cons, err := s.js.OrderedConsumer(ctx, bucketStream(p), jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{bucketFilter(p, m.f)},
			DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:    a + 1,
		})
		if err != nil {
			stopAll()
			return nil, fmt.Errorf("jsfeed: replay partition %d: %w", p, err)
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(s.cfg.Pull))
		if err != nil {
			stopAll()
			return nil, fmt.Errorf("jsfeed: replay partition %d: %w", p, err)
		}
		its = append(its, it)
		// What the new consumer had to deliver when it was created:
		// none means p meets the hub at once.
		pending := uint64(1)
		if info := cons.CachedInfo(); info != nil {
			pending = info.NumPending
		}
		starts[p] = start{it: it, pending: pending}
	}
	for p, st := range starts {
		go s.replayPartition(ctx, h, m, p, st.it, st.pending)
	}
	go m.drain(ctx, h)
	return stopAll, nil
}

// replayPartition queues partition p's stored changes until p meets the
// hub; pending is what its consumer had to deliver when created.
func (s *Source) replayPartition(ctx context.Context, h *hub, m *member, p int, it jetstream.MessagesContext, pending uint64) {
	defer it.Stop()
	if pending == 0 {
		m.meet(p)
		return
	}
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
		if m.reached(h, p, seq) {
			return
		}
		if !isMarker(msg) {
			if ch, ok := s.decode(msg, p, seq); ok {
				if !m.enqueue(ctx, s, ch) {
					return
				}
			}
		}
		if meta.NumPending == 0 {
			m.meet(p)
			return
		}
	}
}

// reached reports whether p's replay, reading seq, met the hub: seq is
// at or past the buffer's first change, or past what the hub read of p
// (the hub hands it over). From then on p's buffer is kept whole.
func (m *member) reached(h *hub, p int, seq uint64) bool {
	m.mu.Lock()
	pt := &m.parts[p]
	met := (len(pt.buf) > 0 && seq >= pt.buf[0].Seq) || seq > h.at[p].Load()
	m.mu.Unlock()
	if met {
		m.meet(p)
	}
	return met
}

// meet marks p's replay done and wakes the drain.
func (m *member) meet(p int) {
	m.mu.Lock()
	if !m.parts[p].met {
		m.parts[p].met = true
		m.replaying--
	}
	m.mu.Unlock()
	m.poke()
}

// enqueue stamps ch with the member's cursor after it and queues it,
// waiting for the reader; a change at or before the member's cursor in
// its partition was queued already (by the replay, or it is before the
// cursor resumed after) and is skipped. It reports false once the
// subscription ended.
func (m *member) enqueue(ctx context.Context, s *Source, ch feed.Change) bool {
	m.put.Lock()
	defer m.put.Unlock()
	if ch.Seq <= m.cur[ch.Partition] {
		return true
	}
	m.cur = m.cur.With(ch.Partition, ch.Seq)
	s.frame(&ch, m.cur)
	return m.sub.Put(ctx, ch)
}

// drain queues the buffers of the partitions that met the hub, in order,
// and turns the member live once it can (tryLive); between rounds it
// waits for the hub or a replay to poke it.
func (m *member) drain(ctx context.Context, h *hub) {
	for {
		moved := false
		for p := range m.parts {
			m.mu.Lock()
			pt := &m.parts[p]
			if !pt.met || len(pt.buf) == 0 {
				m.mu.Unlock()
				continue
			}
			batch := pt.buf
			pt.buf, pt.spare = pt.spare[:0], batch
			m.mu.Unlock()
			moved = true
			for _, ch := range batch {
				if !m.enqueue(ctx, h.src, ch) {
					return
				}
			}
		}
		if moved {
			continue
		}
		if m.tryLive(h) {
			return
		}
		select {
		case <-m.poked:
		case <-m.sub.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}

// tryLive turns the member live if every partition met the hub, every
// buffer is drained, and the hub's cursor covers the member's: then the
// member has been handed every change its filter selects up to the
// hub's cursor, and the hub's next change and its id are exactly what it
// needs. The hub can be behind a member (a cursor from an instance whose
// hub was further on, or a replay that read ahead): it then waits until
// the hub catches up, buffering meanwhile. Taken in the order put, hub,
// member, so that no change is queued, read by the hub or buffered while
// it decides.
func (m *member) tryLive(h *hub) bool {
	m.put.Lock()
	defer m.put.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.replaying > 0 || !h.seqs.Covers(m.cur) {
		return false
	}
	for p := range m.parts {
		if len(m.parts[p].buf) > 0 {
			return false
		}
	}
	m.live.Store(true)
	m.parts = nil // the hub no longer buffers for a live member
	return true
}
