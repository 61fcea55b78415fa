package jsfeed_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/feed/jsfeed"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// hubStack is a Source over a real embedded server with the streams,
// no calculator: the tests publish changes to SELLABLE themselves, so
// that they know every id. encodes counts the frames the source encoded.
type hubStack struct {
	*stacktest.Stack
	src     *jsfeed.Source
	log     *logtest.Buffer
	encodes atomic.Int64
	seq     atomic.Uint64 // the positions' own seq, for unique message ids
}

func newHubStack(t *testing.T, tune func(*jsfeed.Config)) *hubStack {
	t.Helper()
	h := &hubStack{Stack: stacktest.Start(t, 1), log: logtest.New()}
	cfg := jsfeed.DefaultConfig()
	cfg.Logger = h.log.Logger()
	cfg.Frame = func(ch feed.Change) []byte {
		h.encodes.Add(1)
		return []byte(strconv.FormatUint(ch.ID, 10))
	}
	if tune != nil {
		tune(&cfg)
	}
	src, err := jsfeed.NewSource(h.JS, wire.NewChangeCodec(nil), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.src = src
	return h
}

// publish stores one change of loc/sku per key, in order, and returns
// their stream sequences.
func (h *hubStack) publish(t *testing.T, keys ...sellable.Key) []uint64 {
	t.Helper()
	ctx := context.Background()
	var out []uint64
	for _, k := range keys {
		n := h.seq.Add(1)
		m, err := wire.ChangeMsg(sellable.Position{LocationID: k.LocationID, SKU: k.SKU, Count: int64(n), Seq: n, UpdatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		ack, err := h.JS.PublishMsg(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ack.Sequence)
	}
	return out
}

// subscribe opens a subscription for the test's duration.
func (h *hubStack) subscribe(t *testing.T, f feed.Filter, c feed.Cursor) *feed.Subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sub, err := h.src.Subscribe(ctx, f, c)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// read takes n changes from sub, failing on an end or a long silence.
func read(t *testing.T, sub *feed.Subscription, n int) []feed.Change {
	t.Helper()
	var out []feed.Change
	buf := make([]feed.Change, 0, 64)
	deadline := time.Now().Add(30 * time.Second)
	for len(out) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d changes within 30 s: %v", len(out), n, ids(out))
		}
		got, err := sub.Next(context.Background(), buf[:0:min(cap(buf), n-len(out))], time.Second)
		if err != nil {
			t.Fatalf("after %d of %d changes: %v", len(out), n, err)
		}
		out = append(out, got...)
	}
	return out
}

// ids are the changes' ids, for comparing with what was published.
func ids(chs []feed.Change) []uint64 {
	out := make([]uint64, len(chs))
	for i, ch := range chs {
		out[i] = ch.ID
	}
	return out
}

func equal(a, b []uint64) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d ids, want %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return fmt.Errorf("id %d at %d, want %d (a gap or a duplicate)", a[i], i, b[i])
		}
	}
	return nil
}

// Subscribers with different filters, all on one hub, each receive
// exactly the changes their filter selects, in stream order, with the
// frame the hub encoded once per change however many subscribers there
// are.
func TestHubDeliversEachSubscriberExactlyItsChangesInOrder(t *testing.T) {
	h := newHubStack(t, nil)
	filters := []feed.Filter{{}, {LocationID: "L1"}, {SKU: "S2"}, {LocationID: "L1", SKU: "S2"}, {LocationID: "L3"}}
	subs := make([]*feed.Subscription, len(filters))
	for i, f := range filters {
		subs[i] = h.subscribe(t, f, feed.Cursor{})
	}
	// Distinct keys: SELLABLE keeps one change per position, and a
	// change replaced before the hub read it is rightly never delivered.
	var keys []sellable.Key
	for i := range 300 {
		keys = append(keys, sellable.Key{LocationID: "L" + strconv.Itoa(i%3+1), SKU: "S" + strconv.Itoa(i/3)})
	}
	seqs := h.publish(t, keys...)
	for i, f := range filters {
		var want []uint64
		for j, k := range keys {
			if f.Matches(sellable.Position{LocationID: k.LocationID, SKU: k.SKU}) {
				want = append(want, seqs[j])
			}
		}
		got := read(t, subs[i], len(want))
		if err := equal(ids(got), want); err != nil {
			t.Errorf("filter %+v: %v", f, err)
		}
		for _, ch := range got {
			if !f.Matches(ch.Position) || string(ch.Frame) != strconv.FormatUint(ch.ID, 10) {
				t.Errorf("filter %+v delivered %+v frame %q", f, ch.Position, ch.Frame)
				break
			}
		}
	}
	if n := h.encodes.Load(); n != int64(len(keys)) {
		t.Errorf("%d frames encoded for %d changes and %d subscribers, want one per change", n, len(keys), len(filters))
	}
	if st := h.src.Stats(); st.Open != int64(len(filters)) || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A subscriber that resumes while changes keep arriving gets every
// change after its cursor exactly once, in order: the stored ones from
// its replay, the live ones from the hub, and the seam between them
// (live changes buffered during the replay, more of them than a queue
// holds while the reader waits) without a gap or a duplicate.
func TestHubResumeAcrossLiveChangesHasNoGapOrDuplicate(t *testing.T) {
	const queue = 256
	h := newHubStack(t, func(c *jsfeed.Config) { c.Queue, c.Pull = queue, 16 })
	key := func(i int) sellable.Key { return sellable.Key{LocationID: "R", SKU: strconv.Itoa(i)} }
	var keys []sellable.Key
	for i := range 1500 {
		keys = append(keys, key(i)) // distinct: SELLABLE keeps every one
	}
	all := h.publish(t, keys[:600]...)
	after := all[99]
	sub := h.subscribe(t, feed.Filter{LocationID: "R"}, feed.Cursor{Resume: true, After: after})
	// Published while the reader reads nothing: the replay stops at a
	// full queue and the live changes overflow its buffer (twice).
	all = append(all, h.publish(t, keys[600:1200]...)...)
	// Published while the reader catches up: the replay meets the
	// buffer, which drains and turns live, as changes keep coming.
	done := make(chan []uint64)
	go func() {
		var seqs []uint64
		ctx := context.Background()
		for i, k := range keys[1200:] {
			m, err := wire.ChangeMsg(sellable.Position{LocationID: k.LocationID, SKU: k.SKU, Count: 1, Seq: uint64(100000 + i), UpdatedAt: time.Now()})
			if err != nil {
				break
			}
			ack, err := h.JS.PublishMsg(ctx, m)
			if err != nil {
				break
			}
			seqs = append(seqs, ack.Sequence)
		}
		done <- seqs
	}()
	got := read(t, sub, len(keys)-100)
	all = append(all, <-done...)
	if err := equal(ids(got), all[100:]); err != nil {
		t.Fatal(err)
	}
	if st := h.src.Stats(); st.Dropped != 0 {
		t.Errorf("stats %+v: a reader catching up is never dropped", st)
	}
	// Live now: the next change comes from the hub.
	next := h.publish(t, key(5000))
	if c := read(t, sub, 1); c[0].ID != next[0] {
		t.Errorf("after catching up: %d, want %d", c[0].ID, next[0])
	}
}

// A subscriber that stops reading is dropped once its queue overflows;
// the others on the same hub go on receiving every change.
func TestHubDropsASlowSubscriberWhileOthersContinue(t *testing.T) {
	const queue = 16
	h := newHubStack(t, func(c *jsfeed.Config) { c.Queue = queue })
	slow := h.subscribe(t, feed.Filter{}, feed.Cursor{})
	fast := h.subscribe(t, feed.Filter{}, feed.Cursor{})
	// In step with the fast reader, so that only the slow one is behind.
	for i := range 4 * queue {
		seq := h.publish(t, sellable.Key{LocationID: "D", SKU: strconv.Itoa(i)})
		if c := read(t, fast, 1); c[0].ID != seq[0] {
			t.Fatalf("the fast subscriber got %d, want %d", c[0].ID, seq[0])
		}
	}
	select {
	case <-slow.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the slow subscriber was not dropped")
	}
	if err := slow.Err(); !errors.Is(err, feed.ErrSlowConsumer) || !strings.Contains(err.Error(), strconv.Itoa(queue)) {
		t.Errorf("slow subscriber ended with %v, want ErrSlowConsumer naming its queue", err)
	}
	poll.Until(t, 10*time.Second, "the slow subscriber counted", func() error {
		if st := h.src.Stats(); st.Dropped != 1 || st.Open != 1 {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	more := h.publish(t, sellable.Key{LocationID: "D", SKU: "after"})
	if c := read(t, fast, 1); c[0].ID != more[0] {
		t.Errorf("after the drop: %d, want %d", c[0].ID, more[0])
	}
}

// A message on SELLABLE that is no change is logged and skipped; the
// hub goes on with the next change, and nobody is dropped.
func TestHubSkipsAnUndecodableChange(t *testing.T) {
	h := newHubStack(t, nil)
	sub := h.subscribe(t, feed.Filter{}, feed.Cursor{})
	bad := nats.NewMsg(streams.SellableSubject(sellable.Key{LocationID: "X", SKU: "bad"}))
	bad.Data = []byte("not a change")
	if _, err := h.JS.PublishMsg(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	good := h.publish(t, sellable.Key{LocationID: "X", SKU: "good"})
	if c := read(t, sub, 1); c[0].ID != good[0] || c[0].Position.SKU != "good" {
		t.Errorf("after a bad message: %+v, want the good change %d", c[0], good[0])
	}
	if !strings.Contains(h.log.String(), "undecodable change skipped") {
		t.Errorf("nothing logged: %q", h.log.String())
	}
	if st := h.src.Stats(); st.Open != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// The hub stops with its last subscriber and starts again with the
// next one, which gets what is stored after it subscribed.
func TestHubRestartsAfterItsLastSubscriberLeft(t *testing.T) {
	h := newHubStack(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	first, err := h.src.Subscribe(ctx, feed.Filter{}, feed.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-first.Done()
	poll.Until(t, 10*time.Second, "the first subscription released", func() error {
		if st := h.src.Stats(); st.Open != 0 {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	sub := h.subscribe(t, feed.Filter{}, feed.Cursor{})
	seqs := h.publish(t, sellable.Key{LocationID: "A", SKU: "again"})
	if c := read(t, sub, 1); c[0].ID != seqs[0] {
		t.Errorf("got %d, want %d", c[0].ID, seqs[0])
	}
}
