package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sellable/inventory/client"
	"github.com/sellable/inventory/sellable"
)

// ModeFeed measures the live feed, GET /inventory/changes: Subscribers
// clients hold it open over HTTP while adjustments go in over NATS at a
// fixed rate, and each change event is timed from the publish ack of the
// event it reflects to its arrival at each subscriber (issue 14.4).
const ModeFeed Mode = "feed"

// The defaults of ModeFeed: issue 14's figure is 5,000 changes/s to 100
// subscribers.
const (
	DefaultFeedRate     = 5000
	DefaultSubscribers  = 100
	DefaultFeedDuration = 20 * time.Second
)

// feedConnect bounds the opening of every subscriber, feedDrain the wait
// for the last deliveries after the last ack: the run stops by itself
// within feedConnect + FeedDuration + feedDrain.
const (
	feedConnect = 10 * time.Second
	feedDrain   = 5 * time.Second
)

// feed opens cfg.Subscribers feeds, publishes adjustments of 1..10 on
// keys drawn uniformly at r per second for cfg.FeedDuration, and measures
// per (event, subscriber) the time from the event's ack to the first
// change of its key with seq ≥ the acked seq arriving at that subscriber.
// The calculator may fold several events of a key into one change; that
// change delivers all of them.
func (t *target) feed(ctx context.Context, cfg Config, progress io.Writer) (Section, error) {
	r := cfg.Rate
	if r <= 0 {
		r = DefaultFeedRate
	}
	n := eventsFor(r, cfg.FeedDuration)
	sec := Section{Mode: ModeFeed, Via: ViaNATS, Settings: fmt.Sprintf("subscribers=%d rate=%g/s duration=%v keys=%d uniform window=%d",
		cfg.Subscribers, r, cfg.FeedDuration, cfg.Keys, cfg.Window)}
	ks := newKeySet(cfg.Prefix, cfg.Keys)
	w := newFeedWatch(ks, cfg.Subscribers)

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	hc := &http.Client{Transport: feedTransport(cfg.Subscribers)} // no timeout: a feed has no end
	defer hc.CloseIdleConnections()
	var wg sync.WaitGroup
	ready := make(chan error, cfg.Subscribers)
	for _, s := range w.subs {
		wg.Go(func() { s.run(sctx, hc, cfg.HTTPURL, w, ready) })
	}
	stopAll := func() { stop(); wg.Wait() }
	cctx, ccancel := context.WithTimeout(ctx, feedConnect)
	for range cfg.Subscribers {
		var err error
		select {
		case err = <-ready:
		case <-cctx.Done():
			err = fmt.Errorf("loadtest: subscribers not open after %v: %w", feedConnect, cctx.Err())
		}
		if err != nil {
			ccancel()
			stopAll()
			return sec, err
		}
	}
	ccancel()

	b := newBar(progress, int64(n), fmt.Sprintf("feed to %d subscribers at %g/s", cfg.Subscribers, r), "ev")
	g := &adjuster{p: newPicker(cfg.Seed+3, 0, cfg.Keys)}
	st, err := t.drive(ctx, driveOpts{
		via: ViaNATS, n: n, rate: r, src: g, keys: ks, window: cfg.Window, bar: b,
		onAck: func(a ack) { w.track(a.ev.key, a.seq, a.ackAt) },
	})
	b.finish()
	if err != nil {
		stopAll()
		return sec, sendError(err, st)
	}
	// The last deliveries: until every subscriber still open has every
	// acked event, or feedDrain.
	deadline := time.Now().Add(feedDrain)
	for w.pending() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		_ = sleepUntil(ctx, time.Now().Add(10*time.Millisecond))
	}
	end := time.Now()
	stopAll()
	if ctx.Err() != nil {
		return sec, ctx.Err()
	}
	res := w.result()
	sent := st.lastAck.Sub(st.start)
	sec.rate("offered", r)
	sec.rate("accepted", rate(st.acked, sent))
	sec.count("events acked", st.acked)
	sec.count("send errors", st.failed)
	sec.count("subscribers", cfg.Subscribers)
	sec.count("subscribers dropped as slow", res.dropped)
	if res.dropped > 0 {
		sec.add("first drop, after the first publish", res.firstDrop.Sub(st.start).Seconds(), Seconds)
		sec.Settings += "; first drop: " + res.firstDropReason
	}
	sec.count("subscribers ended otherwise", res.ended)
	sec.count("changes received", res.received)
	sec.rate("changes received, all subscribers", rate(res.received, end.Sub(st.start)))
	sec.rate("changes received per subscriber", rate(res.received, end.Sub(st.start))/float64(cfg.Subscribers))
	sec.count("deliveries expected", st.acked*cfg.Subscribers)
	sec.count("deliveries measured", res.lat.Count)
	sec.count("deliveries missed", st.acked*cfg.Subscribers-res.lat.Count)
	sec.latency("ack→received", res.lat, true)
	if res.firstErr != nil {
		sec.Error = "first subscriber error: " + res.firstErr.Error()
	}
	return sec, nil
}

// feedTransport keeps one connection per subscriber, all to one host.
func feedTransport(subs int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = subs, subs
	tr.DisableCompression = true
	return tr
}

// adjuster yields adjustments of 1..10 on keys from a picker: every event
// changes its position, so every event makes a change.
type adjuster struct{ p *picker }

func (a *adjuster) next() event {
	return event{key: a.p.next(), kind: sellable.Adjustment, count: 1 + a.p.r.Int64N(10)}
}

// feedWatch is the bookkeeping of a feed run: which key a change is of,
// and each subscriber's deliveries.
type feedWatch struct {
	ks    *keySet
	bySKU map[string]int // SKUs are unique within a key set
	subs  []*feedSub
}

func newFeedWatch(ks *keySet, subscribers int) *feedWatch {
	w := &feedWatch{ks: ks, bySKU: make(map[string]int, ks.len()), subs: make([]*feedSub, subscribers)}
	for i, k := range ks.keys {
		w.bySKU[k.SKU] = i
	}
	for i := range w.subs {
		w.subs[i] = newFeedSub(ks.len())
	}
	return w
}

// keyOf finds the key of a change; false for another client's positions.
func (w *feedWatch) keyOf(loc, sku []byte) (int, bool) {
	i, ok := w.bySKU[string(sku)]
	if !ok || w.ks.keys[i].LocationID != string(loc) {
		return 0, false
	}
	return i, true
}

// track records an acked event for every subscriber still open.
func (w *feedWatch) track(key int, seq uint64, ackAt time.Time) {
	for _, s := range w.subs {
		s.track(key, seq, ackAt)
	}
}

// pending counts the acked events open subscribers have not received.
func (w *feedWatch) pending() int {
	n := 0
	for _, s := range w.subs {
		n += s.pending()
	}
	return n
}

type feedResult struct {
	lat                      Summary
	received, dropped, ended int
	firstErr                 error
	// firstDrop is when the first subscriber was dropped, and why (the
	// dropped event's data): which of the server's bounds gave way.
	firstDrop       time.Time
	firstDropReason string
}

func (w *feedWatch) result() feedResult {
	var res feedResult
	var all []time.Duration
	for _, s := range w.subs {
		s.mu.Lock()
		all = append(all, s.lat...)
		res.received += s.received
		switch {
		case s.dropped:
			res.dropped++
			if res.firstDrop.IsZero() || s.droppedAt.Before(res.firstDrop) {
				res.firstDrop, res.firstDropReason = s.droppedAt, s.dropReason
			}
		case s.ended:
			res.ended++
		}
		if res.firstErr == nil && s.err != nil {
			res.firstErr = s.err
		}
		s.mu.Unlock()
	}
	res.lat = summarize(all)
	return res
}

// feedSub is one subscriber: per key the highest seq received and when,
// the acked events it waits for, and its samples.
type feedSub struct {
	mu       sync.Mutex
	seen     []uint64
	seenAt   []time.Time
	waiting  map[int][]waiter
	nWaiting int
	lat      []time.Duration
	received int
	dropped  bool // ended by the server as a slow consumer
	// droppedAt and dropReason are when, and the dropped event's data.
	droppedAt  time.Time
	dropReason string
	ended      bool // ended otherwise (server closed, error) before the run did
	err        error
}

func newFeedSub(keys int) *feedSub {
	return &feedSub{seen: make([]uint64, keys), seenAt: make([]time.Time, keys), waiting: make(map[int][]waiter)}
}

// track records an acked event: delivered already (the change can arrive
// before the ack is read: a sample of 0), or awaited. An ended subscriber
// waits for nothing.
func (s *feedSub) track(key int, seq uint64, ackAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.dropped || s.ended:
	case seq <= s.seen[key]:
		s.lat = append(s.lat, max(s.seenAt[key].Sub(ackAt), 0))
	default:
		s.waiting[key] = append(s.waiting[key], waiter{seq: seq, ackAt: ackAt})
		s.nWaiting++
	}
}

// observe records a change of key at seq received at: every awaited
// event of that key up to seq is delivered.
func (s *feedSub) observe(key int, seq uint64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received++
	if seq <= s.seen[key] {
		return
	}
	s.seen[key], s.seenAt[key] = seq, at
	ws := s.waiting[key]
	keep := ws[:0]
	for _, w := range ws {
		if w.seq > seq {
			keep = append(keep, w)
			continue
		}
		s.lat = append(s.lat, max(at.Sub(w.ackAt), 0))
		s.nWaiting--
	}
	if len(keep) == 0 {
		delete(s.waiting, key)
	} else {
		s.waiting[key] = keep
	}
}

// finish marks the subscriber ended by the server or an error; what it
// awaited is never delivered.
func (s *feedSub) finish(dropped bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped, s.ended = dropped, !dropped
	s.err = err
	s.waiting, s.nWaiting = map[int][]waiter{}, 0
}

func (s *feedSub) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nWaiting
}

// errFeedEnded is a feed the server ended with an event other than a
// slow-consumer drop (it shut down).
var errFeedEnded = errors.New("loadtest: the server ended the feed")

// run opens the feed, reports on ready once the server says it is
// subscribed (or fails), then reads change events until ctx ends or the
// server ends the feed.
func (s *feedSub) run(ctx context.Context, hc *http.Client, base string, w *feedWatch, ready chan<- error) {
	subscribed := false
	fail := func(err error) {
		if !subscribed {
			ready <- err
			return
		}
		if ctx.Err() == nil {
			s.finish(false, err)
		}
	}
	req, err := client.NewWatchChangesRequest(base, nil)
	if err != nil {
		fail(err)
		return
	}
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		fail(err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fail(fmt.Errorf("loadtest: GET /inventory/changes: status %d", resp.StatusCode))
		return
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	var name []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			fail(fmt.Errorf("loadtest: reading the feed: %w", err))
			return
		}
		at := time.Now()
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case bytes.HasPrefix(line, []byte(": subscribed")):
			if !subscribed {
				subscribed = true
				ready <- nil
			}
		case bytes.HasPrefix(line, []byte("event: ")):
			name = append(name[:0], line[len("event: "):]...)
		case bytes.HasPrefix(line, []byte("data: ")):
			data := line[len("data: "):]
			switch string(name) {
			case "change":
				loc, sku, seq, ok := changeFields(data)
				if !ok {
					continue
				}
				if k, ok := w.keyOf(loc, sku); ok {
					s.observe(k, seq, at)
				} else {
					s.mu.Lock()
					s.received++
					s.mu.Unlock()
				}
			case "dropped":
				s.mu.Lock()
				s.droppedAt, s.dropReason = at, string(data)
				s.mu.Unlock()
				s.finish(true, nil)
				return
			default:
				fail(fmt.Errorf("%w: %s %s", errFeedEnded, name, data))
				return
			}
		}
	}
}

// changeFields reads location, SKU and seq from a change event's data,
// the position as GET answers it, without decoding the rest: at 100
// subscribers the load tool reads hundreds of thousands of them a second
// on the machine it measures. Identifiers never need JSON escapes
// (sellable.ValidateID).
func changeFields(data []byte) (loc, sku []byte, seq uint64, ok bool) {
	str := func(field string) []byte {
		i := bytes.Index(data, []byte(`"`+field+`":"`))
		if i < 0 {
			return nil
		}
		rest := data[i+len(field)+4:]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			return nil
		}
		return rest[:j]
	}
	loc, sku = str("locationId"), str("sku")
	i := bytes.Index(data, []byte(`"seq":`))
	if loc == nil || sku == nil || i < 0 {
		return nil, nil, 0, false
	}
	rest := data[i+len(`"seq":`):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	seq, err := strconv.ParseUint(string(rest[:j]), 10, 64)
	if err != nil {
		return nil, nil, 0, false
	}
	return loc, sku, seq, true
}
