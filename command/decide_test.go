package command_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

func storedEvents(t *testing.T, s *systemtest.System) uint64 {
	t.Helper()
	st, err := s.JS.Stream(context.Background(), streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func adjust(t *testing.T, s *systemtest.System, k sellable.Key, n int64) sellable.Receipt {
	t.Helper()
	rc, err := s.Commands.Record(context.Background(), sellable.Command{Kind: sellable.Adjustment, LocationID: k.LocationID, SKU: k.SKU, Count: n})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// The server's own behaviour, which everything else rests on: an atomic
// batch in which one line's expectation is stale stores nothing, not even
// the lines whose expectations hold; the same batch with fresh
// expectations stores every line.
func TestBatchWithStaleExpectationStoresNothing(t *testing.T) {
	s := systemtest.Start(t, systemtest.Config{Partitions: 4})
	s.StartCalculator(t, nil, nil)
	ctx := context.Background()
	a, b := sellable.Key{LocationID: "L", SKU: "a"}, sellable.Key{LocationID: "M", SKU: "b"}
	adjust(t, s, a, 5)
	adjust(t, s, b, 5)
	d := command.NewDecider(s.JS, s.Wire.Events, s.Wire.Decoders, s.View, s.Streams.Partitions, command.DecideConfig{Attempts: 1})
	before := storedEvents(t, s)
	var once sync.Once
	_, err := d.Decide(ctx, []sellable.Key{a, b}, func(ctx context.Context, ps []sellable.Position) (command.Decision, error) {
		// Another writer gets in between the read and the publish, on
		// the second key only.
		once.Do(func() { adjust(t, s, b, 1) })
		return command.Decision{Events: []sellable.Event{
			{Kind: sellable.Hold, Key: a, Count: 1, ReservationID: "r1"},
			{Kind: sellable.Hold, Key: b, Count: 1, ReservationID: "r1"},
		}}, nil
	})
	if !errors.Is(err, command.ErrContention) || !errors.Is(err, sellable.ErrUnavailable) {
		t.Fatalf("decide over a moved key: %v, want ErrContention", err)
	}
	if got := storedEvents(t, s); got != before+1 {
		t.Fatalf("stored %d events, want only the concurrent adjustment (%d)", got, before+1)
	}
}

// A concurrent event between the read and the publish makes the decision
// run again on the new state, and only the second decision is stored.
// Without the expectation the first, stale decision would be stored.
func TestDecideRetriesOnConcurrentEvent(t *testing.T) {
	s := systemtest.Start(t, systemtest.Config{Partitions: 4})
	s.StartCalculator(t, nil, nil)
	ctx := context.Background()
	k := sellable.Key{LocationID: "L", SKU: "hot"}
	adjust(t, s, k, 3)
	d := command.NewDecider(s.JS, s.Wire.Events, s.Wire.Decoders, s.View, s.Streams.Partitions, command.DefaultDecideConfig())
	var calls atomic.Int32
	var seen []int64
	st, err := d.Decide(ctx, []sellable.Key{k}, func(ctx context.Context, ps []sellable.Position) (command.Decision, error) {
		seen = append(seen, ps[0].Count)
		if calls.Add(1) == 1 {
			adjust(t, s, k, -3) // sells out under the first decision
		}
		if ps[0].Count < 2 {
			return command.Decision{}, nil
		}
		return command.Decision{Events: []sellable.Event{{Kind: sellable.Hold, Key: k, Count: 2, ReservationID: "r"}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || len(st.Seqs) != 0 || seen[1] != 0 {
		t.Fatalf("calls %d, stored %v, saw %v: want a second decision on 0 that stores nothing", calls.Load(), st.Seqs, seen)
	}
	poll.Until(t, 5*time.Second, "view of the key", func() error {
		p, err := s.View.Get(ctx, k.LocationID, k.SKU)
		if err != nil || p.Count != 0 || p.Reserved != 0 {
			return fmt.Errorf("%+v %v, want nothing held", p, err)
		}
		return nil
	})
}

// Racing deciders on one key with 10 sellable, each holding 1 while
// sellable: exactly 10 are stored, however the publishes interleave.
func TestRacingDecidersNeverOversell(t *testing.T) {
	s := systemtest.Start(t, systemtest.Config{Partitions: 2})
	s.StartCalculator(t, nil, nil)
	ctx := context.Background()
	k := sellable.Key{LocationID: "L", SKU: "last"}
	other := sellable.Key{LocationID: "L", SKU: "spread"}
	adjust(t, s, k, 10)
	adjust(t, s, other, 1000)
	d := command.NewDecider(s.JS, s.Wire.Events, s.Wire.Decoders, s.View, s.Streams.Partitions, command.DecideConfig{Attempts: 1000})
	var granted atomic.Int64
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Go(func() {
			for i := range 3 {
				st, err := d.Decide(ctx, []sellable.Key{other, k}, func(ctx context.Context, ps []sellable.Position) (command.Decision, error) {
					if ps[1].Count < 1 {
						return command.Decision{}, nil
					}
					id := fmt.Sprintf("c%d-%d", c, i)
					return command.Decision{Events: []sellable.Event{
						{Kind: sellable.Hold, Key: other, Count: 1, ReservationID: id},
						{Kind: sellable.Hold, Key: k, Count: 1, ReservationID: id},
					}}, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if len(st.Seqs) > 0 {
					granted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if granted.Load() != 10 {
		t.Fatalf("granted %d holds of the last 10", granted.Load())
	}
	poll.Until(t, 5*time.Second, "view", func() error {
		p, err := s.View.Get(ctx, k.LocationID, k.SKU)
		q, err2 := s.View.Get(ctx, other.LocationID, other.SKU)
		if err != nil || err2 != nil || p.Count != 0 || p.Reserved != 10 || q.Reserved != 10 {
			return fmt.Errorf("%+v %+v %v %v", p, q, err, err2)
		}
		return nil
	})
}

// A record expecting sequence 0 on its subject is stored once: a second
// decision with the same record fails as a concurrent event would.
func TestRecordExpectingNoMessageIsStoredOnce(t *testing.T) {
	s := systemtest.Start(t, systemtest.Config{Partitions: 2})
	ctx := context.Background()
	d := command.NewDecider(s.JS, s.Wire.Events, s.Wire.Decoders, s.View, s.Streams.Partitions, command.DecideConfig{Attempts: 1})
	rec := func(ctx context.Context, _ []sellable.Position) (command.Decision, error) {
		return command.Decision{Records: []command.Record{{Subject: streams.CartSubject("id-1"), Data: []byte(`{}`)}}}, nil
	}
	if _, err := d.Decide(ctx, nil, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decide(ctx, nil, rec); !errors.Is(err, command.ErrContention) {
		t.Fatalf("second record: %v, want ErrContention", err)
	}
	st, _ := s.JS.Stream(ctx, streams.EventStream)
	if _, err := st.GetLastMsgForSubject(ctx, streams.CartSubject("id-1")); err != nil {
		t.Fatal(err)
	}
}

// A message on a key that the calculator dead-letters (a hold published
// by hand without its reservation) never shows in the view; a decision on
// the key still goes through, expecting that message as the key's last,
// instead of waiting for the view in vain.
func TestDecideSeesPastDeadLetters(t *testing.T) {
	s := systemtest.Start(t, systemtest.Config{Partitions: 2})
	s.StartCalculator(t, nil, nil)
	ctx := context.Background()
	k := sellable.Key{LocationID: "L", SKU: "poisoned"}
	adjust(t, s, k, 5)
	if _, err := s.JS.Publish(ctx, streams.EventSubject(sellable.Hold, k), []byte(`{"count":1}`)); err != nil {
		t.Fatal(err)
	}
	d := command.NewDecider(s.JS, s.Wire.Events, s.Wire.Decoders, s.View, s.Streams.Partitions, command.DecideConfig{ViewWait: time.Second, Attempts: 1})
	st, err := d.Decide(ctx, []sellable.Key{k}, func(ctx context.Context, ps []sellable.Position) (command.Decision, error) {
		if ps[0].Count != 5 {
			return command.Decision{}, fmt.Errorf("decided on %+v", ps[0])
		}
		return command.Decision{Events: []sellable.Event{{Kind: sellable.Hold, Key: k, Count: 5, ReservationID: "r"}}}, nil
	})
	if err != nil || len(st.Seqs) != 1 {
		t.Fatalf("decide past a dead letter: %+v %v", st, err)
	}
	// A good event the view has not folded is waited for, not skipped:
	// with no calculator, the decision answers ErrViewBehind.
	s2 := systemtest.Start(t, systemtest.Config{Partitions: 2})
	adjust(t, s2, k, 5)
	d2 := command.NewDecider(s2.JS, s2.Wire.Events, s2.Wire.Decoders, s2.View, s2.Streams.Partitions, command.DecideConfig{ViewWait: 200 * time.Millisecond})
	if _, err := d2.Decide(ctx, []sellable.Key{k}, func(context.Context, []sellable.Position) (command.Decision, error) {
		return command.Decision{}, nil
	}); !errors.Is(err, command.ErrViewBehind) {
		t.Fatalf("decide with the view behind: %v, want ErrViewBehind", err)
	}
}
