package jsfeed

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/feed"
)

// hub is the one subscription of a Source on the view buckets' streams:
// one ordered consumer per partition. With a consumer per subscriber the
// server fanned each change out N times, and each subscriber decoded it
// and encoded it as JSON itself: N times the work of one (BENCHMARKS.md,
// the live feed). The hub reads each change once, decodes and encodes it
// once, and hands the same bytes to every member whose filter selects it,
// the filter evaluated in process. It runs while it has members: the
// first subscriber starts it, the last one to leave stops it.
//
// The partitions' consumers deliver concurrently; the hub takes their
// changes one at a time (mu), so that its cursor, the last sequence it
// read in each partition, moves one partition at a time and every change
// it hands out carries the cursor after it as its id. For a live member
// that id is exact: the member has been handed every change its filter
// selects up to the hub's cursor in every partition.
type hub struct {
	src   *Source
	cctxs []jetstream.ConsumeContext
	stop  context.CancelFunc

	// count is len(members), read without mu to decode a change before
	// taking mu only when somebody may want it.
	count atomic.Int64
	// at is seqs, each readable without mu by the replays.
	at []atomic.Uint64

	mu      sync.Mutex // serialises the partitions' changes and membership
	members []*member
	// seqs is the hub's cursor: the last sequence it read per partition.
	seqs feed.Cursor
	// pending is, per partition, how many changes its stream held that the
	// hub had not read, as of the last one it read; behind is their sum.
	pending []uint64
	behind  uint64
}

// member is one subscription as the hub sees it.
type member struct {
	sub   *feed.Subscription
	f     feed.Filter
	queue int
	// behind is Config.Behind: how far the hub may be behind the streams.
	behind int
	// live is set once the member takes the hub's changes straight into
	// its queue, with the hub's frames; until then (while it replays)
	// they go to its partitions' buffers.
	live atomic.Bool
	// poked wakes the member's drain (replay.go) when the hub read a
	// change or a replay met the hub.
	poked chan struct{}

	mu sync.Mutex
	// parts are the partitions' buffers while the member replays.
	parts []part
	// replaying counts the partitions whose replay has not met the hub.
	replaying int

	// put serialises the replays' and the drain's stamping and queueing:
	// ids must reach the queue in the order they grow.
	put sync.Mutex
	// cur is the id of the last change the replays or the drain queued,
	// first the cursor resumed after (under put).
	cur feed.Cursor
}

// part is one partition of a member that replays.
type part struct {
	// buf holds, in order and without a gap, the partition's live changes
	// from buf[0] on; spare is the other half of the double buffer the
	// drain reads from.
	buf, spare []feed.Change
	// met is set once the partition's replay met the hub: from then on
	// buf is the only way to the reader, so it may no longer be discarded.
	met bool
}

// resuming prepares m to replay n partitions from after, buffering up to
// m.queue live changes per partition meanwhile. The buffers grow as
// changes come rather than being allocated whole: N partitions' worth
// for each of many subscribers resuming at once (after a restart) would
// be megabytes each, mostly never used.
func (m *member) resuming(n int, after feed.Cursor) {
	m.parts = make([]part, n)
	m.replaying = n
	m.cur = after
	m.poked = make(chan struct{}, 1)
}

func (m *member) poke() {
	select {
	case m.poked <- struct{}{}:
	default:
	}
}

// attach adds m to the hub, starting the hub if m is its first member.
// A member from now on starts at the hub's cursor.
func (s *Source) attach(ctx context.Context, m *member, n int) (*hub, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hub == nil {
		h, err := s.startHub(ctx, n)
		if err != nil {
			return nil, err
		}
		s.hub = h
	}
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.members = append(h.members, m)
	h.count.Store(int64(len(h.members)))
	if m.live.Load() {
		m.sub.SetStart(h.cursor())
	}
	return h, nil
}

// detach removes m from h and stops h when m was its last member.
func (s *Source) detach(h *hub, m *member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.mu.Lock()
	next := make([]*member, 0, len(h.members))
	for _, o := range h.members {
		if o != m {
			next = append(next, o)
		}
	}
	h.members = next
	h.count.Store(int64(len(next)))
	h.mu.Unlock()
	if len(next) == 0 && s.hub == h {
		s.hub = nil
		for _, c := range h.cctxs {
			c.Stop()
		}
		h.stop()
	}
}

// cursor is a copy of the hub's cursor (under mu): ids are shared and
// never modified, the hub's own cursor moves.
func (h *hub) cursor() feed.Cursor {
	return append(feed.Cursor(nil), h.seqs...)
}

// startHub creates the hub's consumers, one per partition, each
// delivering what its stream stores after its last sequence now; the
// hub's cursor starts there, and the consumers exist on the server when
// startHub returns. Starting from a sequence read first, rather than from
// "new", leaves no moment in which a change could be stored that the
// cursor counts as read and the consumer never delivers.
func (s *Source) startHub(ctx context.Context, n int) (*hub, error) {
	// The hub outlives the request that started it: its context is its
	// own, ended when its last member leaves.
	hctx, stop := context.WithCancel(context.Background())
	h := &hub{src: s, stop: stop, at: make([]atomic.Uint64, n), seqs: make(feed.Cursor, n), pending: make([]uint64, n)}
	fail := func(err error) (*hub, error) {
		for _, c := range h.cctxs {
			c.Stop()
		}
		stop()
		return nil, err
	}
	for p := range n {
		st, err := s.js.Stream(ctx, bucketStream(p))
		if err != nil {
			return fail(fmt.Errorf("jsfeed: stream of partition %d: %w", p, err))
		}
		last := st.CachedInfo().State.LastSeq
		h.seqs[p] = last
		h.at[p].Store(last)
		cons, err := s.js.OrderedConsumer(ctx, bucketStream(p), jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:   last + 1,
		})
		if err != nil {
			return fail(fmt.Errorf("jsfeed: subscribe to partition %d: %w", p, err))
		}
		cctx, err := cons.Consume(func(msg jetstream.Msg) { h.handle(hctx, p, msg) },
			jetstream.PullMaxMessages(s.cfg.Pull),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				s.log.Warn("feed: hub consumer", "partition", p, "err", err)
			}))
		if err != nil {
			return fail(fmt.Errorf("jsfeed: consume partition %d: %w", p, err))
		}
		h.cctxs = append(h.cctxs, cctx)
	}
	return h, nil
}

// handle fans one change of partition p out: decoded and encoded once,
// whatever the number of members, and only when one of them wants it.
// A KV delete or purge marker moves the cursor and nothing else.
func (h *hub) handle(_ context.Context, p int, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		return
	}
	seq := meta.Sequence.Stream
	marker := isMarker(msg)
	var ch feed.Change
	ok, decoded := false, false
	if !marker && h.count.Load() > 0 {
		// Outside mu: the partitions decode in parallel.
		ch, ok = h.src.decode(msg, p, seq)
		decoded = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seqs[p] = seq
	h.at[p].Store(seq)
	h.behind = h.behind - h.pending[p] + meta.NumPending
	h.pending[p] = meta.NumPending
	if len(h.members) == 0 {
		return
	}
	if !marker && !decoded {
		// A member attached since count was read: it starts at or
		// before this change, which it must not miss.
		ch, ok = h.src.decode(msg, p, seq)
	}
	if marker || !ok {
		h.pokeReplaying()
		return
	}
	h.src.frame(&ch, h.cursor())
	for _, m := range h.members {
		if m.f.Matches(ch.Position) {
			m.deliver(ch, h.behind)
		}
		if !m.live.Load() {
			m.poke()
		}
	}
}

// pokeReplaying wakes the drains of the members that replay: the hub
// moved, which may be what one of them waits for.
func (h *hub) pokeReplaying() {
	for _, m := range h.members {
		if !m.live.Load() {
			m.poke()
		}
	}
}

// deliver hands m one live change; behind is how many changes the
// streams hold that the hub has not read yet.
func (m *member) deliver(ch feed.Change, behind uint64) {
	if m.live.Load() || !m.buffer(ch) {
		m.offer(ch, behind)
	}
}

// buffer keeps ch for a member that replays and reports true, or false
// once the member is live.
func (m *member) buffer(ch feed.Change) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live.Load() {
		return false
	}
	pt := &m.parts[ch.Partition]
	if len(pt.buf) >= m.queue {
		if pt.met {
			m.sub.Close(fmt.Errorf("%w: more than %d changes waiting", feed.ErrSlowConsumer, m.queue))
			return true
		}
		// The replay has not reached buf[0] yet, so it will also read
		// everything buffered: start again from ch. Catching up never
		// drops a subscriber; only being behind the live changes does.
		pt.buf = pt.buf[:0]
	}
	pt.buf = append(pt.buf, ch)
	return true
}

// offer queues a live change. A member is dropped when its queue
// overflows (feed.Subscription.Offer), and when the hub itself is more
// than Config.Behind changes behind the streams, summed over the
// partitions (the work waiting, wherever it waits): those wait in the
// streams, where no queue's bound sees them, and a member served that
// late is told rather than left behind silently. The streams' count is
// every change, not only those a filter selects, so a filtered member is
// judged conservatively.
func (m *member) offer(ch feed.Change, behind uint64) {
	if behind > uint64(m.behind) {
		m.sub.Close(fmt.Errorf("%w: the feed is more than %d changes behind (%d of them in the streams)", feed.ErrSlowConsumer, m.behind, behind))
		return
	}
	m.sub.Offer(ch)
}
