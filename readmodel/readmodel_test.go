package readmodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/metrics"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// source is the view's store, counting the reads that reach it and able
// to hold them until released (a read in flight while a watch delivers).
type source struct {
	view  *kv.Store
	reads atomic.Int64
	// gate, when set, is waited on after a read got its value.
	gate chan struct{}
}

func (s *source) Get(ctx context.Context, loc, sku string) (sellable.Position, error) {
	s.reads.Add(1)
	pos, err := s.view.Get(ctx, loc, sku)
	if s.gate != nil {
		<-s.gate
	}
	return pos, err
}

type fixture struct {
	t     *testing.T
	stack *stacktest.Stack
	src   *source
	model *Model
}

// start runs a model over a fresh view holding up to maxKeys keys; run
// says whether its watches start.
func start(t *testing.T, maxKeys int, run bool) *fixture {
	t.Helper()
	s := stacktest.Start(t, 2)
	src := &source{view: s.View}
	cfg := DefaultConfig()
	cfg.Partitions, cfg.MaxKeys, cfg.Render, cfg.Logger = 2, maxKeys, api.PositionAnswer, slog.New(slog.DiscardHandler)
	m, err := New(context.Background(), s.JS, src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if run {
		stacktest.Go(t, m.Run)
		poll.Until(t, 5*time.Second, "watches caught up", func() error {
			if !m.CaughtUp() {
				return errors.New("not caught up")
			}
			return nil
		})
	}
	return &fixture{t: t, stack: s, src: src, model: m}
}

// put stores p in its bucket as the calculator would and returns its
// partition and revision.
func (f *fixture) put(t *testing.T, p sellable.Position) (int, uint64) {
	t.Helper()
	k := sellable.Key{LocationID: p.LocationID, SKU: p.SKU}
	part := streams.Partition(k, 2)
	b, err := f.stack.JS.KeyValue(context.Background(), kv.BucketName(part))
	if err != nil {
		t.Fatal(err)
	}
	v, err := kv.EncodeValue(p)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := b.Put(context.Background(), streams.KeyToken(k), v)
	if err != nil {
		t.Fatal(err)
	}
	return part, rev
}

// delivered polls until the watch of partition part has delivered the
// change of revision rev.
func (f *fixture) delivered(part int, rev uint64) {
	f.t.Helper()
	poll.Until(f.t, 5*time.Second, "change delivered", func() error {
		if got := f.model.delivered[part].Load(); got < rev {
			return fmt.Errorf("partition %d delivered up to %d, want %d", part, got, rev)
		}
		return nil
	})
}

func (f *fixture) remove(t *testing.T, k sellable.Key) {
	t.Helper()
	b, err := f.stack.JS.KeyValue(context.Background(), kv.BucketName(streams.Partition(k, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(context.Background(), streams.KeyToken(k)); err != nil {
		t.Fatal(err)
	}
}

func pos(loc, sku string, count int64, seq uint64) sellable.Position {
	return sellable.Position{LocationID: loc, SKU: sku, Count: count, OnHand: count, Seq: seq,
		UpdatedAt: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)}
}

// answerIs polls until the model answers p.
func (f *fixture) answerIs(t *testing.T, p sellable.Position) {
	t.Helper()
	want := string(api.PositionAnswer(p))
	poll.Until(t, 5*time.Second, "answer of "+p.SKU, func() error {
		got, seq, err := f.model.Answer(context.Background(), p.LocationID, p.SKU)
		if err != nil || string(got) != want || seq != p.Seq {
			return fmt.Errorf("answer %q seq %d, %v; want %q seq %d", got, seq, err, want, p.Seq)
		}
		return nil
	})
}

// Memory follows the bucket: values there before the watch started,
// values put after, a delete; and once a key is held, reading it costs
// no read of the bucket. If the watch did not apply changes, the second
// answer would stay the first; if Answer read the bucket every time,
// reads would grow.
func TestAnswersFollowTheBucket(t *testing.T) {
	f := start(t, 100, false)
	before := pos("L", "before", 1, 10)
	f.put(t, before)
	for p := range 2 {
		if v := testutil.ToFloat64(metrics.ReadModelCaughtUp.WithLabelValues(strconv.Itoa(p))); v != 0 {
			t.Fatalf("partition %d caught up (%v) before its watch ran", p, v)
		}
	}
	stacktest.Go(t, f.model.Run)
	f.answerIs(t, before)
	// Freshness as /metrics shows it: caught up, nothing behind.
	poll.Until(t, 5*time.Second, "freshness metrics", func() error {
		for p := range 2 {
			l := strconv.Itoa(p)
			up, behind := testutil.ToFloat64(metrics.ReadModelCaughtUp.WithLabelValues(l)), testutil.ToFloat64(metrics.ReadModelBehind.WithLabelValues(l))
			if up != 1 || behind != 0 {
				return fmt.Errorf("partition %d: caught_up %v, behind %v", p, up, behind)
			}
		}
		return nil
	})

	p := pos("L", "a", 5, 11)
	f.put(t, p)
	f.answerIs(t, p)
	for i := range 5 {
		p = pos("L", "a", int64(6+i), uint64(12+i))
		f.put(t, p)
		f.answerIs(t, p)
	}
	n := f.src.reads.Load()
	for range 100 {
		if _, _, err := f.model.Answer(context.Background(), "L", "a"); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.src.reads.Load(); got != n {
		t.Fatalf("held key read from the bucket %d times", got-n)
	}

	f.remove(t, sellable.Key{LocationID: "L", SKU: "a"})
	poll.Until(t, 5*time.Second, "delete seen", func() error {
		if _, _, err := f.model.Answer(context.Background(), "L", "a"); !errors.Is(err, sellable.ErrNotFound) {
			return fmt.Errorf("after delete: %v, want not found", err)
		}
		return nil
	})
}

// Until its watches have caught up, a model answers from the bucket,
// never from what it may hold: a fresh process never serves a value
// older than the bucket's.
func TestBeforeCatchingUpAnswersTheBucket(t *testing.T) {
	f := start(t, 100, false)
	for i := range 3 {
		p := pos("L", "s", int64(i), uint64(i+1))
		f.put(t, p)
		got, seq, err := f.model.Answer(context.Background(), "L", "s")
		if err != nil || seq != p.Seq || string(got) != string(api.PositionAnswer(p)) {
			t.Fatalf("before catching up: %s %d %v, want the bucket's %+v", got, seq, err, p)
		}
	}
	if f.model.CaughtUp() || len(f.model.held) != 0 {
		t.Fatalf("caught up %v, %d held, with no watch running", f.model.CaughtUp(), len(f.model.held))
	}
}

// The model never holds more than MaxKeys, whatever is written and read,
// and still answers every key right (those it does not hold from the
// bucket).
func TestHeldKeysAreBounded(t *testing.T) {
	const max = 5
	f := start(t, max, true)
	var all []sellable.Position
	for i := range 4 * max {
		p := pos("L", fmt.Sprintf("k%d", i), int64(i), uint64(i+1))
		f.put(t, p)
		all = append(all, p)
	}
	for round := range 3 {
		for _, p := range all {
			f.answerIs(t, p)
			f.model.mu.RLock()
			n := len(f.model.held)
			f.model.mu.RUnlock()
			if n > max {
				t.Fatalf("round %d: %d keys held, bound %d", round, n, max)
			}
		}
	}
}

// A read of a key not held that is still in flight when the watch
// delivers a newer change must not hold what it read: the bucket gave it
// the older value, and holding that would serve it until the key changed
// again. Without the guard (fill.watched) the last answer is the old one.
func TestLateReadNeverReplacesAWatchedChange(t *testing.T) {
	f := start(t, 1, true)
	f.put(t, pos("L", "other", 1, 1))
	f.answerIs(t, pos("L", "other", 1, 1)) // the one place is taken
	old := pos("L", "k", 1, 2)
	f.delivered(f.put(t, old)) // and, the model being full, not held

	f.src.gate = make(chan struct{})
	type result struct {
		seq uint64
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, seq, err := f.model.Answer(context.Background(), "L", "k")
		done <- result{seq, err}
	}()
	k := sellable.Key{LocationID: "L", SKU: "k"}
	poll.Until(t, 5*time.Second, "read in flight", func() error {
		if f.src.reads.Load() == 0 {
			return errors.New("no read yet")
		}
		return nil
	})
	newer := pos("L", "k", 2, 3)
	f.delivered(f.put(t, newer))
	f.model.mu.RLock()
	fl := f.model.fills[k]
	f.model.mu.RUnlock()
	if fl == nil {
		t.Fatal("no read in flight for the key")
	}
	close(f.src.gate)
	if r := <-done; r.err != nil || r.seq != old.Seq {
		t.Fatalf("the read in flight: seq %d, %v; want the old value's %d", r.seq, r.err, old.Seq)
	}
	f.src.gate = nil
	got, seq, err := f.model.Answer(context.Background(), "L", "k")
	if err != nil || seq != newer.Seq || string(got) != string(api.PositionAnswer(newer)) {
		t.Fatalf("after the late read: %s seq %d, %v; want the watched %d", got, seq, err, newer.Seq)
	}
}

// Two reads of one key that finish in the wrong order: the later, older
// one must not replace what the earlier, newer one held.
func TestOlderReadNeverReplacesANewerRead(t *testing.T) {
	m := &Model{cfg: Config{MaxKeys: 10}, held: map[sellable.Key]*entry{}, fills: map[sellable.Key]*fill{}}
	k := sellable.Key{LocationID: "L", SKU: "k"}
	f := &fill{n: 2}
	m.fills[k] = f
	m.mu.Lock()
	m.settle(k, f, []byte("newer"), 7, true)
	m.settle(k, f, []byte("older"), 5, true)
	m.mu.Unlock()
	got, seq, err := m.held[k].load(nil)
	if err != nil || seq != 7 || string(got) != "newer" {
		t.Fatalf("held %q at %d, %v; want the newer read at 7", got, seq, err)
	}
	if len(m.fills) != 0 {
		t.Fatalf("fills left: %d", len(m.fills))
	}
}

// What the view buckets should never hold (only the calculator and an
// admin write them) does not stop a watch: a key that is no view key is
// skipped, a value that does not decode answers an error for its key
// alone, and the next good value of that key is served.
func TestHostileBucketContentStopsNothing(t *testing.T) {
	f := start(t, 10, true)
	ctx := context.Background()
	k := sellable.Key{LocationID: "L", SKU: "bad"}
	part := streams.Partition(k, 2)
	b, err := f.stack.JS.KeyValue(ctx, kv.BucketName(part))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "no-dot-in-this-key", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	rev, err := b.Put(ctx, streams.KeyToken(k), []byte("\x00not a value{"+strings.Repeat("[", 10000)))
	if err != nil {
		t.Fatal(err)
	}
	f.delivered(part, rev)
	if got, _, err := f.model.Answer(ctx, "L", "bad"); err == nil {
		t.Fatalf("an undecodable value answered %q", got)
	}
	other := pos("L", "other", 1, 1)
	f.delivered(f.put(t, other))
	f.answerIs(t, other) // the watch went on
	good := pos("L", "bad", 3, 7)
	f.delivered(f.put(t, good))
	f.answerIs(t, good)
}
