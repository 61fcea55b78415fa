package jsfeed_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/feed/jsfeed"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// partitions is the view's partition count in these tests: several, so
// that changes interleave across streams and cursors have several parts.
const partitions = 4

// hubStack is a Source over a real embedded server with the streams and
// the view's buckets, no calculator: the tests put the view's values
// into the buckets themselves, as the calculator's writer does, so that
// they know where each is stored. encodes counts the frames the source
// encoded.
type hubStack struct {
	*stacktest.Stack
	src     *jsfeed.Source
	log     *logtest.Buffer
	encodes atomic.Int64
	seq     atomic.Uint64 // the positions' own seq
	buckets []jetstream.KeyValue
}

func newHubStack(t *testing.T, tune func(*jsfeed.Config)) *hubStack {
	t.Helper()
	h := &hubStack{Stack: stacktest.Start(t, partitions), log: logtest.New()}
	cfg := jsfeed.DefaultConfig()
	cfg.Logger = h.log.Logger()
	cfg.Frame = func(ch feed.Change) []byte {
		h.encodes.Add(1)
		return []byte(ch.ID.String())
	}
	if tune != nil {
		tune(&cfg)
	}
	src, err := jsfeed.NewSource(h.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.src = src
	for p := range partitions {
		b, err := h.JS.KeyValue(context.Background(), kv.BucketName(p))
		if err != nil {
			t.Fatal(err)
		}
		h.buckets = append(h.buckets, b)
	}
	return h
}

// at is where a change is stored: its partition and its sequence there.
type at struct {
	p   int
	seq uint64
}

// put stores one new value of each key, in order, in its partition's
// bucket, and returns where each went.
func (h *hubStack) put(t *testing.T, keys ...sellable.Key) []at {
	t.Helper()
	var out []at
	for _, k := range keys {
		n := h.seq.Add(1)
		a, err := h.store(sellable.Position{LocationID: k.LocationID, SKU: k.SKU, Count: int64(n), Seq: n, UpdatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func (h *hubStack) store(pos sellable.Position) (at, error) {
	k := sellable.Key{LocationID: pos.LocationID, SKU: pos.SKU}
	v, err := kv.EncodeValue(pos)
	if err != nil {
		return at{}, err
	}
	p := streams.Partition(k, partitions)
	rev, err := h.buckets[p].Put(context.Background(), streams.KeyToken(k), v)
	return at{p, rev}, err
}

// last is the cursor of what the buckets hold now.
func (h *hubStack) last(t *testing.T) feed.Cursor {
	t.Helper()
	c := make(feed.Cursor, partitions)
	for p := range partitions {
		st, err := h.JS.Stream(context.Background(), "KV_"+kv.BucketName(p))
		if err != nil {
			t.Fatal(err)
		}
		c[p] = st.CachedInfo().State.LastSeq
	}
	return c
}

// subscribe opens a subscription for the test's duration.
func (h *hubStack) subscribe(t *testing.T, f feed.Filter, after feed.Cursor) *feed.Subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sub, err := h.src.Subscribe(ctx, f, after)
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
			t.Fatalf("%d of %d changes within 30 s: %v", len(out), n, where(out))
		}
		got, err := sub.Next(context.Background(), buf[:0:min(cap(buf), n-len(out))], time.Second)
		if err != nil {
			t.Fatalf("after %d of %d changes: %v", len(out), n, err)
		}
		out = append(out, got...)
	}
	return out
}

// quiet fails if sub delivers anything within a short while.
func quiet(t *testing.T, sub *feed.Subscription) {
	t.Helper()
	if got, err := sub.Next(context.Background(), make([]feed.Change, 0, 8), 300*time.Millisecond); len(got) > 0 || err != nil {
		t.Fatalf("unexpected: %v %v", where(got), err)
	}
}

// where are the changes' places, for comparing with what was stored.
func where(chs []feed.Change) []at {
	out := make([]at, len(chs))
	for i, ch := range chs {
		out[i] = at{ch.Partition, ch.Seq}
	}
	return out
}

// byPartition splits places by partition, keeping their order.
func byPartition(as []at) [partitions][]uint64 {
	var out [partitions][]uint64
	for _, a := range as {
		out[a.p] = append(out[a.p], a.seq)
	}
	return out
}

// samePerPartition reports the first difference between the changes got
// and those wanted, partition by partition: each partition's stream is
// ordered, the partitions are not ordered among themselves.
func samePerPartition(got, want []at) error {
	g, w := byPartition(got), byPartition(want)
	for p := range partitions {
		if !slices.Equal(g[p], w[p]) {
			return fmt.Errorf("partition %d: got %v, want %v (a gap, a duplicate or out of order)", p, g[p], w[p])
		}
	}
	return nil
}

// idsGrow checks that each change's id is the cursor after it: its own
// partition's part is its sequence, and no part ever goes back (from
// after on).
func idsGrow(chs []feed.Change, after feed.Cursor) error {
	prev := after
	for i, ch := range chs {
		if len(ch.ID) != partitions || ch.ID[ch.Partition] != ch.Seq {
			return fmt.Errorf("change %d (%d@%d): id %v is not the cursor after it", i, ch.Seq, ch.Partition, ch.ID)
		}
		if prev != nil && !ch.ID.Covers(prev) {
			return fmt.Errorf("change %d: id %v goes back from %v", i, ch.ID, prev)
		}
		prev = ch.ID
	}
	return nil
}

// after are the places of as after cursor c.
func after(as []at, c feed.Cursor) []at {
	var out []at
	for _, a := range as {
		if a.seq > c[a.p] {
			out = append(out, a)
		}
	}
	return out
}

// Subscribers with different filters, all on one hub, each receive
// exactly the changes their filter selects, each partition's in its
// stream's order, with the frame the hub encoded once per change however
// many subscribers there are, and ids that are the cursor after each.
func TestHubDeliversEachSubscriberExactlyItsChangesInOrder(t *testing.T) {
	h := newHubStack(t, nil)
	filters := []feed.Filter{{}, {LocationID: "L1"}, {SKU: "S2"}, {LocationID: "L1", SKU: "S2"}, {LocationID: "L3"}}
	subs := make([]*feed.Subscription, len(filters))
	for i, f := range filters {
		subs[i] = h.subscribe(t, f, nil)
	}
	// Distinct keys: a bucket keeps one value per key, and a value
	// replaced before the hub read it is rightly never delivered.
	var keys []sellable.Key
	for i := range 300 {
		keys = append(keys, sellable.Key{LocationID: "L" + strconv.Itoa(i%3+1), SKU: "S" + strconv.Itoa(i/3)})
	}
	stored := h.put(t, keys...)
	for i, f := range filters {
		var want []at
		for j, k := range keys {
			if f.Matches(sellable.Position{LocationID: k.LocationID, SKU: k.SKU}) {
				want = append(want, stored[j])
			}
		}
		got := read(t, subs[i], len(want))
		if err := samePerPartition(where(got), want); err != nil {
			t.Errorf("filter %+v: %v", f, err)
		}
		if err := idsGrow(got, nil); err != nil {
			t.Errorf("filter %+v: %v", f, err)
		}
		for _, ch := range got {
			if !f.Matches(ch.Position) || string(ch.Frame) != ch.ID.String() {
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
// change after its cursor exactly once, each partition in order: the
// stored ones from its replays, the live ones from the hub, and the seam
// between them (live changes buffered during the replays, more of them
// than a queue holds while the reader waits) without a gap or a
// duplicate; its ids only grow.
func TestHubResumeAcrossLiveChangesHasNoGapOrDuplicate(t *testing.T) {
	const queue = 64
	h := newHubStack(t, func(c *jsfeed.Config) { c.Queue, c.Pull = queue, 16 })
	key := func(i int) sellable.Key { return sellable.Key{LocationID: "R", SKU: strconv.Itoa(i)} }
	var keys []sellable.Key
	for i := range 1500 {
		keys = append(keys, key(i)) // distinct: the buckets keep every one
	}
	all := h.put(t, keys[:600]...)
	// The cursor after the first 100 changes, as the feed would have
	// sent it: every partition's part at or before its 100th's.
	cur := make(feed.Cursor, partitions)
	for _, a := range all[:100] {
		cur[a.p] = a.seq
	}
	sub := h.subscribe(t, feed.Filter{LocationID: "R"}, cur)
	// Stored while the reader reads nothing: the replays stop at a full
	// queue and the live changes overflow their buffers.
	all = append(all, h.put(t, keys[600:1200]...)...)
	// Stored while the reader catches up: the replays meet the buffers,
	// which drain and turn live, as changes keep coming.
	done := make(chan []at)
	go func() {
		var out []at
		for i, k := range keys[1200:] {
			a, err := h.store(sellable.Position{LocationID: k.LocationID, SKU: k.SKU, Count: 1, Seq: uint64(100000 + i), UpdatedAt: time.Now()})
			if err != nil {
				break
			}
			out = append(out, a)
		}
		done <- out
	}()
	got := read(t, sub, len(keys)-100)
	all = append(all, <-done...)
	if err := samePerPartition(where(got), after(all, cur)); err != nil {
		t.Fatal(err)
	}
	if err := idsGrow(got, cur); err != nil {
		t.Fatal(err)
	}
	if st := h.src.Stats(); st.Dropped != 0 {
		t.Errorf("stats %+v: a reader catching up is never dropped", st)
	}
	// Live now: the next change comes from the hub.
	next := h.put(t, key(5000))
	if c := read(t, sub, 1); c[0].Partition != next[0].p || c[0].Seq != next[0].seq {
		t.Errorf("after catching up: %d@%d, want %v", c[0].Seq, c[0].Partition, next[0])
	}
	quiet(t, sub)
}

// A cursor current on some partitions and behind on others (a client
// that read a burst on two partitions, then left): the behind ones are
// replayed from their part, the current ones send only what comes next,
// and the client ends up with every change after its cursor once.
func TestHubResumeBehindOnSomePartitionsCurrentOnOthers(t *testing.T) {
	h := newHubStack(t, nil)
	var keys []sellable.Key
	for i := range 200 {
		keys = append(keys, sellable.Key{LocationID: "M", SKU: strconv.Itoa(i)})
	}
	first := h.put(t, keys[:100]...)
	cur := h.last(t)
	// Partitions 0 and 1 current, 2 and 3 behind by their last changes.
	behind := map[int]bool{2: true, 3: true}
	var want []at
	for p := range behind {
		var seqs []uint64
		for _, a := range first {
			if a.p == p {
				seqs = append(seqs, a.seq)
			}
		}
		if len(seqs) < 4 {
			t.Fatalf("partition %d got %d of 100 keys: pick other keys", p, len(seqs))
		}
		cur[p] = seqs[len(seqs)-4]
	}
	want = after(first, cur)
	sub := h.subscribe(t, feed.Filter{LocationID: "M"}, cur)
	// More on every partition while it replays.
	want = append(want, h.put(t, keys[100:]...)...)
	got := read(t, sub, len(want))
	if err := samePerPartition(where(got), want); err != nil {
		t.Fatal(err)
	}
	if err := idsGrow(got, cur); err != nil {
		t.Fatal(err)
	}
	quiet(t, sub)
}

// The id of a change a live subscriber got is where another resumes:
// what the first got up to that id and what the second gets after it,
// while changes keep coming, are every change once.
func TestHubResumeAfterALiveChangesID(t *testing.T) {
	h := newHubStack(t, nil)
	live := h.subscribe(t, feed.Filter{}, nil)
	var keys []sellable.Key
	for i := range 400 {
		keys = append(keys, sellable.Key{LocationID: "I", SKU: strconv.Itoa(i)})
	}
	stored := h.put(t, keys[:200]...)
	seen := read(t, live, 150)
	id := seen[len(seen)-1].ID
	resumed := h.subscribe(t, feed.Filter{}, id)
	stored = append(stored, h.put(t, keys[200:]...)...)
	got := read(t, resumed, len(after(stored, id)))
	if err := samePerPartition(append(where(seen), where(got)...), stored); err != nil {
		t.Fatal(err)
	}
	quiet(t, resumed)
}

// Two partitions written in turn, each key many times: each partition's
// changes arrive in its own order, whatever the interleaving, and the
// newest value of each key arrives last for it.
func TestHubKeepsEachPartitionsOrderWhenPartitionsInterleave(t *testing.T) {
	h := newHubStack(t, nil)
	// Two keys in two different partitions.
	var a, b sellable.Key
	for i := 0; b.SKU == ""; i++ {
		k := sellable.Key{LocationID: "O", SKU: strconv.Itoa(i)}
		switch {
		case a.SKU == "":
			a = k
		case streams.Partition(k, partitions) != streams.Partition(a, partitions):
			b = k
		}
	}
	sub := h.subscribe(t, feed.Filter{LocationID: "O"}, nil)
	var stored []at
	for range 200 {
		stored = append(stored, h.put(t, a, b)...)
	}
	// Read until both keys' newest values came (read fails on a long
	// silence).
	var got []feed.Change
	for n := newest(got); n[a] != 2*200-1 || n[b] != 2*200; n = newest(got) {
		got = append(got, read(t, sub, 1)...)
	}
	// A bucket keeps one value per key: a value replaced before the hub
	// read it is not delivered, so not all 400 need arrive; those that
	// do are in order.
	for p, seqs := range byPartition(where(got)) {
		if !slices.IsSorted(seqs) || len(slices.Compact(slices.Clone(seqs))) != len(seqs) {
			t.Errorf("partition %d out of order or repeated: %v", p, seqs)
		}
	}
	if err := idsGrow(got, nil); err != nil {
		t.Error(err)
	}
	quiet(t, sub)
}

// newest maps each key to the count of its last change in chs.
func newest(chs []feed.Change) map[sellable.Key]int64 {
	out := map[sellable.Key]int64{}
	for _, ch := range chs {
		out[sellable.Key{LocationID: ch.Position.LocationID, SKU: ch.Position.SKU}] = ch.Position.Count
	}
	return out
}

// A delete or purge marker in a bucket (an operator's `nats kv del`) is
// no change: neither the hub nor a replay sends it (it would read as an
// undecodable value, and be logged), and the changes after it are sent
// as usual.
func TestHubSkipsDeleteMarkers(t *testing.T) {
	h := newHubStack(t, nil)
	ctx := context.Background()
	k, j, m := sellable.Key{LocationID: "X", SKU: "deleted"}, sellable.Key{LocationID: "X", SKU: "next"}, sellable.Key{LocationID: "X", SKU: "purged"}
	start := h.last(t)
	sub := h.subscribe(t, feed.Filter{}, nil)
	h.put(t, k)
	read(t, sub, 1)
	// A bucket keeps one message per key: the delete marker replaces
	// k's value and stays, the newest of k, for the replay below.
	if err := h.buckets[streams.Partition(k, partitions)].Delete(ctx, streams.KeyToken(k)); err != nil {
		t.Fatal(err)
	}
	next := h.put(t, j)
	if c := read(t, sub, 1); c[0].Seq != next[0].seq || c[0].Position.SKU != "next" {
		t.Errorf("after a delete marker: %d %+v, want the value at %v", c[0].Seq, c[0].Position, next[0])
	}
	h.put(t, m)
	read(t, sub, 1)
	if err := h.buckets[streams.Partition(m, partitions)].Purge(ctx, streams.KeyToken(m)); err != nil {
		t.Fatal(err)
	}
	quiet(t, sub)
	// A replay from the start reads k's delete marker, j's value and
	// m's purge marker: only j is sent.
	replayed := h.subscribe(t, feed.Filter{}, start)
	if c := read(t, replayed, 1); c[0].Seq != next[0].seq {
		t.Errorf("replay: %d@%d, want the value at %v", c[0].Seq, c[0].Partition, next[0])
	}
	quiet(t, replayed)
	if strings.Contains(h.log.String(), "undecodable") {
		t.Errorf("a marker was read as a value: %s", h.log.String())
	}
}

// A subscriber that stops reading is dropped once its queue overflows;
// the others on the same hub go on receiving every change.
func TestHubDropsASlowSubscriberWhileOthersContinue(t *testing.T) {
	const queue = 16
	h := newHubStack(t, func(c *jsfeed.Config) { c.Queue = queue })
	slow := h.subscribe(t, feed.Filter{}, nil)
	fast := h.subscribe(t, feed.Filter{}, nil)
	// In step with the fast reader, so that only the slow one is behind.
	for i := range 4 * queue {
		a := h.put(t, sellable.Key{LocationID: "D", SKU: strconv.Itoa(i)})
		if c := read(t, fast, 1); c[0].Seq != a[0].seq || c[0].Partition != a[0].p {
			t.Fatalf("the fast subscriber got %d@%d, want %v", c[0].Seq, c[0].Partition, a[0])
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
	more := h.put(t, sellable.Key{LocationID: "D", SKU: "after"})
	if c := read(t, fast, 1); c[0].Seq != more[0].seq {
		t.Errorf("after the drop: %d, want %v", c[0].Seq, more[0])
	}
}

// A value in a bucket that is no view value is logged and skipped; the
// hub goes on with the next change, and nobody is dropped.
func TestHubSkipsAnUndecodableChange(t *testing.T) {
	h := newHubStack(t, nil)
	sub := h.subscribe(t, feed.Filter{}, nil)
	bad := sellable.Key{LocationID: "X", SKU: "bad"}
	if _, err := h.buckets[streams.Partition(bad, partitions)].Put(context.Background(), streams.KeyToken(bad), []byte("not a value")); err != nil {
		t.Fatal(err)
	}
	good := h.put(t, sellable.Key{LocationID: "X", SKU: "good"})
	if c := read(t, sub, 1); c[0].Seq != good[0].seq || c[0].Position.SKU != "good" {
		t.Errorf("after a bad value: %+v, want the good change %v", c[0], good[0])
	}
	if !strings.Contains(h.log.String(), "undecodable change skipped") {
		t.Errorf("nothing logged: %q", h.log.String())
	}
	if st := h.src.Stats(); st.Open != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// The hub stops with its last subscriber and starts again with the
// next one, which gets what is stored after it subscribed, and starts
// at the cursor of what was stored before (its resume point before its
// first change).
func TestHubRestartsAfterItsLastSubscriberLeft(t *testing.T) {
	h := newHubStack(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	first, err := h.src.Subscribe(ctx, feed.Filter{}, nil)
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
	h.put(t, sellable.Key{LocationID: "A", SKU: "before"})
	want := h.last(t)
	sub := h.subscribe(t, feed.Filter{}, nil)
	if got := sub.Last(); got.String() != want.String() {
		t.Errorf("starts at %v, want %v", got, want)
	}
	stored := h.put(t, sellable.Key{LocationID: "A", SKU: "again"})
	if c := read(t, sub, 1); c[0].Seq != stored[0].seq || c[0].Position.SKU != "again" {
		t.Errorf("got %d %+v, want %v", c[0].Seq, c[0].Position, stored[0])
	}
}

// A cursor of another partition count is refused.
func TestSubscribeRefusesACursorOfAnotherLength(t *testing.T) {
	h := newHubStack(t, nil)
	if _, err := h.src.Subscribe(context.Background(), feed.Filter{}, feed.Cursor{1, 2}); !errors.Is(err, feed.ErrCursor) {
		t.Errorf("2 parts for %d partitions: %v, want ErrCursor", partitions, err)
	}
}

// A cursor ahead of what the hub has read (a client that got its id
// from an instance whose hub was further on) gets nothing it already
// has: the member waits for the hub to pass its cursor before it takes
// the hub's changes as they are.
func TestHubResumeAheadOfTheHubSendsNothingTwice(t *testing.T) {
	h := newHubStack(t, nil)
	// Keys of partition 0 only.
	var keys []sellable.Key
	for i := 0; len(keys) < 10; i++ {
		if k := (sellable.Key{LocationID: "F", SKU: strconv.Itoa(i)}); streams.Partition(k, partitions) == 0 {
			keys = append(keys, k)
		}
	}
	cur := h.last(t)
	// The hub starts with this subscriber, at the streams' ends.
	sub := h.subscribe(t, feed.Filter{}, cur.With(0, cur[0]+5))
	stored := h.put(t, keys...)
	got := read(t, sub, 5)
	if err := samePerPartition(where(got), stored[5:]); err != nil {
		t.Fatal(err)
	}
	quiet(t, sub)
}
