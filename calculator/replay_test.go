package calculator_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// liveChange is one message on inventory.sellable.>, as a subscriber
// sees it.
type liveChange struct {
	subject string
	pos     sellable.Position
	stream  string // Nats-Stream: the bucket's stream
	seq     uint64 // Nats-Sequence: its sequence there
}

// liveChanges subscribes to every change the view buckets republish and
// returns what arrived so far.
func (e *env) liveChanges(t *testing.T) func() []liveChange {
	t.Helper()
	var mu sync.Mutex
	var got []liveChange
	var bad []error
	sub, err := e.NC.Subscribe(streams.SellableFilter, func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		p, err := kv.DecodeValue(m.Data)
		seq, serr := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil || serr != nil {
			bad = append(bad, fmt.Errorf("%s %q %v: %w", m.Subject, m.Data, m.Header, errors.Join(err, serr)))
			return
		}
		got = append(got, liveChange{subject: m.Subject, pos: p, stream: m.Header.Get(jetstream.StreamHeader), seq: seq})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return func() []liveChange {
		mu.Lock()
		defer mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("undecodable live changes: %v", bad)
		}
		return append([]liveChange(nil), got...)
	}
}

// waitLive waits until a live change of loc/sku reflects seq.
func waitLive(t *testing.T, live func() []liveChange, loc, sku string, seq uint64) {
	t.Helper()
	subject := streams.SellableSubject(sellable.Key{LocationID: loc, SKU: sku})
	poll.Until(t, 10*time.Second, "live change of "+loc+"/"+sku, func() error {
		for _, c := range live() {
			if c.subject == subject && c.pos.Seq >= seq {
				return nil
			}
		}
		return fmt.Errorf("no live change at seq %d", seq)
	})
}

// stored is how many values (and markers) the view buckets ever stored:
// the sum of their streams' last sequences.
func (e *env) stored(t *testing.T) uint64 {
	t.Helper()
	var n uint64
	for i := range e.store.Partitions() {
		s, err := e.JS.Stream(context.Background(), kv.StreamName(i))
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += info.State.LastSeq
	}
	return n
}

// Every value the calculator writes reaches inventory.sellable.> once,
// through its bucket's RePublish, and nothing else does: a replay (here
// of the whole log, as after a crash that lost every checkpoint) folds
// to the values already stored, writes nothing and so republishes
// nothing, however long ago they were written.
func TestReplayRepublishesNothing(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	live := e.liveChanges(t)
	_, stop := e.startCalculator(t, "c1")
	const keys = 6
	last := map[string]uint64{}
	for i := 0; i < 30; i++ {
		sku := fmt.Sprint(i % keys)
		e.record(t, sellable.Adjustment, "STL", sku, 3)
		last[sku] = e.record(t, sellable.Reservation, "STL", sku, 1)
	}
	for sku, seq := range last {
		waitLive(t, live, "STL", sku, seq)
	}
	stop()
	before := len(live())
	if s := e.stored(t); uint64(before) != s {
		t.Fatalf("%d live changes for %d values stored", before, s)
	}

	offsets, err := e.JS.Stream(ctx, "KV_calculator_offsets")
	if err != nil {
		t.Fatal(err)
	}
	if err := offsets.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	e.startCalculator(t, "c2")
	// One new event per key after the replay: once each one's change is
	// live, every replayed event of its partition has been processed.
	for sku := range last {
		last[sku] = e.record(t, sellable.Adjustment, "STL", sku, 1)
	}
	for sku, seq := range last {
		waitLive(t, live, "STL", sku, seq)
	}
	all := live()
	if got := len(all) - before; got != keys {
		t.Fatalf("%d live changes after the replay, want %d (one per new event; the replay rewrites nothing)", got, keys)
	}
	if s := e.stored(t); uint64(len(all)) != s {
		t.Fatalf("%d live changes for %d values stored", len(all), s)
	}
	seen := map[string]bool{}
	for _, c := range all {
		id := c.subject + "@" + strconv.FormatUint(c.pos.Seq, 10)
		if seen[id] {
			t.Fatalf("value %s reached subscribers twice", id)
		}
		seen[id] = true
	}
}
