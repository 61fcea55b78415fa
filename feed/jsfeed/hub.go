package jsfeed

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/streams"
)

// hub is the one subscription of a Source on the SELLABLE stream. With
// a consumer per subscriber the server fanned each change out N times,
// and each subscriber decoded it and encoded it as JSON itself: N times
// the work of one (BENCHMARKS.md, the live feed). The hub reads each
// change once, decodes and encodes it once, and hands the same bytes to
// every member whose filter selects it, the filter evaluated in process.
// It runs while it has members: the first subscriber starts it, the last
// one to leave stops it.
type hub struct {
	src  *Source
	cctx jetstream.ConsumeContext
	stop context.CancelFunc

	mu      sync.Mutex // serialises changes to members
	members atomic.Pointer[[]*member]
}

// member is one subscription as the hub sees it.
type member struct {
	sub   *feed.Subscription
	f     feed.Filter
	queue int
	// behind is Config.Behind: how far the hub may be behind the stream.
	behind int
	// live is set once the member takes the hub's changes straight into
	// its queue; until then (while it replays) they go to buf.
	live atomic.Bool

	mu sync.Mutex
	// buf holds, in order and without a gap, the live changes from
	// buf[0] on, while the member replays; spare is the other half of
	// the double buffer the drain reads from.
	buf, spare []feed.Change
	// draining is set once the replay met buf[0]: from then on buf is
	// the only way to the reader, so it may no longer be discarded.
	draining bool
}

// attach adds m to the hub, starting the hub if m is its first member.
func (s *Source) attach(ctx context.Context, m *member) (*hub, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hub == nil {
		h, err := s.startHub(ctx)
		if err != nil {
			return nil, err
		}
		s.hub = h
	}
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.load()
	next := make([]*member, len(old), len(old)+1)
	copy(next, old)
	next = append(next, m)
	h.members.Store(&next)
	return h, nil
}

// detach removes m from h and stops h when m was its last member.
func (s *Source) detach(h *hub, m *member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.mu.Lock()
	old := h.load()
	next := make([]*member, 0, len(old))
	for _, o := range old {
		if o != m {
			next = append(next, o)
		}
	}
	h.members.Store(&next)
	h.mu.Unlock()
	if len(next) == 0 && s.hub == h {
		s.hub = nil
		h.cctx.Stop()
		h.stop()
	}
}

func (h *hub) load() []*member {
	if p := h.members.Load(); p != nil {
		return *p
	}
	return nil
}

// startHub creates the hub's consumer, delivering what is stored from
// now on; it exists on the server when startHub returns.
func (s *Source) startHub(ctx context.Context) (*hub, error) {
	cons, err := s.js.OrderedConsumer(ctx, streams.SellableStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{streams.SellableFilter},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("jsfeed: subscribe: %w", err)
	}
	// The hub outlives the request that started it: its context is its
	// own, ended when its last member leaves.
	hctx, stop := context.WithCancel(context.Background())
	h := &hub{src: s, stop: stop}
	cctx, err := cons.Consume(func(msg jetstream.Msg) { h.handle(hctx, msg) },
		jetstream.PullMaxMessages(s.cfg.Pull),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			s.log.Warn("feed: hub consumer", "err", err)
		}))
	if err != nil {
		stop()
		return nil, fmt.Errorf("jsfeed: consume: %w", err)
	}
	h.cctx = cctx
	return h, nil
}

// handle fans one change out: decoded and encoded once, whatever the
// number of members, and only when one of them wants it.
func (h *hub) handle(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		return
	}
	var (
		ch      feed.Change
		decoded bool
	)
	for _, m := range h.load() {
		if !decoded {
			var ok bool
			if ch, ok = h.src.decode(ctx, msg, meta.Sequence.Stream); !ok {
				return
			}
			decoded = true
		}
		if m.f.Matches(ch.Position) {
			m.deliver(ch, meta.NumPending)
		}
	}
}

// deliver hands m one live change; pending is how many changes the
// stream holds that the hub has not read yet.
func (m *member) deliver(ch feed.Change, pending uint64) {
	if m.live.Load() || !m.buffer(ch) {
		m.offer(ch, pending)
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
	if len(m.buf) == cap(m.buf) {
		if m.draining {
			m.sub.Close(fmt.Errorf("%w: more than %d changes waiting", feed.ErrSlowConsumer, m.queue))
			return true
		}
		// The replay has not reached buf[0] yet, so it will also read
		// everything buffered: start again from ch. Catching up never
		// drops a subscriber; only being behind the live changes does.
		m.buf = m.buf[:0]
	}
	m.buf = append(m.buf, ch)
	return true
}

// offer queues a live change. A member is dropped when its queue
// overflows (feed.Subscription.Offer), and when the hub itself is more
// than Config.Behind changes behind the stream: those wait in the
// stream, where no queue's bound sees them, and a member served that
// late is told rather than left behind silently. The stream's count is
// every change, not only those a filter selects, so a filtered member
// is judged conservatively.
func (m *member) offer(ch feed.Change, pending uint64) {
	if pending > uint64(m.behind) {
		m.sub.Close(fmt.Errorf("%w: the feed is more than %d changes behind (%d of them in the stream)", feed.ErrSlowConsumer, m.behind, pending))
		return
	}
	m.sub.Offer(ch)
}
