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

func reservations(t *testing.T, partitions int) (*systemtest.System, *command.Reservations) {
	t.Helper()
	return reservationsIn(t, systemtest.Config{Partitions: partitions})
}

func reservationsIn(t *testing.T, cfg systemtest.Config) (*systemtest.System, *command.Reservations) {
	t.Helper()
	s := systemtest.Start(t, cfg)
	s.StartCalculator(t, nil, nil)
	d := command.NewDecider(s.JS, s.Wire.Events, s.Wire.Decoders, s.View, s.Streams.Partitions, command.DefaultDecideConfig())
	return s, command.NewReservations(d)
}

func wantPosition(t *testing.T, s *systemtest.System, k sellable.Key, onHand, reserved int64) {
	t.Helper()
	poll.Until(t, 5*time.Second, "position "+k.SKU, func() error {
		p, err := s.View.Get(context.Background(), k.LocationID, k.SKU)
		if err != nil || p.OnHand != onHand || p.Reserved != reserved || p.Count != onHand-reserved {
			return fmt.Errorf("%+v %v, want onHand %d reserved %d", p, err, onHand, reserved)
		}
		return nil
	})
}

func TestReserveAllOrNothing(t *testing.T) {
	s, r := reservations(t, 4)
	ctx := context.Background()
	a, b := sellable.Key{LocationID: "STL", SKU: "a"}, sellable.Key{LocationID: "NYC", SKU: "b"}
	adjust(t, s, a, 10)
	adjust(t, s, b, 2)
	before := storedEvents(t, s)
	_, err := r.Reserve(ctx, command.ReserveRequest{Lines: []sellable.ReservationLine{{Key: a, Count: 5}, {Key: b, Count: 3}}})
	var short *sellable.InsufficientStockError
	if !errors.As(err, &short) || len(short.Short) != 1 || short.Short[0] != (sellable.Shortage{Key: b, Requested: 3, Sellable: 2}) {
		t.Fatalf("short cart: %v", err)
	}
	if got := storedEvents(t, s); got != before {
		t.Fatalf("a refused cart stored %d events", got-before)
	}
	res, err := r.Reserve(ctx, command.ReserveRequest{ID: "cart-1", TTL: time.Minute, Lines: []sellable.ReservationLine{{Key: a, Count: 5}, {Key: b, Count: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reservation.State != sellable.Active || res.SellableAfter[0] != 5 || res.SellableAfter[1] != 0 || res.Replay {
		t.Fatalf("reserved %+v", res)
	}
	wantPosition(t, s, a, 10, 5)
	wantPosition(t, s, b, 2, 2)

	// The id is the idempotency key: same lines answer the original,
	// other lines are refused.
	again, err := r.Reserve(ctx, command.ReserveRequest{ID: "cart-1", Lines: []sellable.ReservationLine{{Key: b, Count: 2}, {Key: a, Count: 5}}})
	if err != nil || !again.Replay || again.SellableAfter[1] != 0 || !again.Reservation.ExpiresAt.Equal(res.Reservation.ExpiresAt) {
		t.Fatalf("replay: %+v %v", again, err)
	}
	if _, err := r.Reserve(ctx, command.ReserveRequest{ID: "cart-1", Lines: []sellable.ReservationLine{{Key: a, Count: 1}}}); !errors.Is(err, sellable.ErrReservationMismatch) {
		t.Fatalf("other lines under the id: %v", err)
	}
	wantPosition(t, s, a, 10, 5)
}

// Two requests with one id and disjoint keys race: exactly one creates
// the reservation, the other is refused, and only one cart is held. The
// cart's own subject, expected empty in the creating batch, decides.
func TestConcurrentCreationsUnderOneIDOneWins(t *testing.T) {
	s, r := reservations(t, 4)
	ctx := context.Background()
	keys := []sellable.Key{{LocationID: "L", SKU: "x"}, {LocationID: "L", SKU: "y"}}
	for _, k := range keys {
		adjust(t, s, k, 5)
	}
	for round := range 5 {
		id := fmt.Sprintf("race-%d", round)
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		for _, k := range keys {
			wg.Go(func() {
				_, err := r.Reserve(ctx, command.ReserveRequest{ID: id, Lines: []sellable.ReservationLine{{Key: k, Count: 1}}})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, sellable.ErrReservationMismatch):
					refused.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 || refused.Load() != 1 {
			t.Fatalf("round %d: %d created, %d refused", round, ok.Load(), refused.Load())
		}
	}
	poll.Until(t, 5*time.Second, "holds", func() error {
		var held int64
		for _, k := range keys {
			p, err := s.View.Get(ctx, k.LocationID, k.SKU)
			if err != nil {
				return err
			}
			held += p.Reserved
		}
		if held != 5 {
			return fmt.Errorf("held %d, want 5 (one per round)", held)
		}
		return nil
	})
}

// The whole lifecycle, with events in JSON and in Avro (the new kinds'
// schemas registered as the seed's are, and read back by the calculator).
func TestLifecycle(t *testing.T) {
	for _, avro := range []bool{false, true} {
		t.Run(fmt.Sprintf("avro=%v", avro), func(t *testing.T) { testLifecycle(t, avro) })
	}
}

func testLifecycle(t *testing.T, avro bool) {
	s, r := reservationsIn(t, systemtest.Config{Partitions: 2, Avro: avro})
	ctx := context.Background()
	k := sellable.Key{LocationID: "STL", SKU: "123123"}
	adjust(t, s, k, 100)
	lines := []sellable.ReservationLine{{Key: k, Count: 10}}
	if _, err := r.Reserve(ctx, command.ReserveRequest{ID: "a", Lines: lines}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if res, err := r.Confirm(ctx, "a"); err != nil || res.State != sellable.Confirmed {
			t.Fatalf("confirm: %+v %v", res, err)
		}
	}
	var te *sellable.TransitionError
	if _, err := r.Expire(ctx, "a"); !errors.As(err, &te) || te.State != sellable.Confirmed {
		t.Fatalf("expire a confirmed reservation: %v", err)
	}
	for range 2 {
		if res, err := r.Fulfil(ctx, "a"); err != nil || res.State != sellable.Fulfilled {
			t.Fatalf("fulfil: %+v %v", res, err)
		}
	}
	if _, err := r.Release(ctx, "a"); !errors.As(err, &te) || te.State != sellable.Fulfilled {
		t.Fatalf("release after fulfil: %v", err)
	}
	wantPosition(t, s, k, 90, 0)

	if _, err := r.Reserve(ctx, command.ReserveRequest{ID: "b", Lines: lines}); err != nil {
		t.Fatal(err)
	}
	if res, err := r.Release(ctx, "b"); err != nil || res.State != sellable.Released {
		t.Fatalf("release: %+v %v", res, err)
	}
	if _, err := r.Confirm(ctx, "b"); !errors.As(err, &te) || te.State != sellable.Released {
		t.Fatalf("confirm after release: %v", err)
	}
	if _, err := r.Get(ctx, "nope"); !errors.Is(err, sellable.ErrReservationNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	wantPosition(t, s, k, 90, 0)
}

// Many concurrent Expire calls on one active reservation return its
// units exactly once.
func TestExpireReturnsUnitsExactlyOnce(t *testing.T) {
	s, r := reservations(t, 2)
	ctx := context.Background()
	k := sellable.Key{LocationID: "STL", SKU: "e"}
	adjust(t, s, k, 10)
	if _, err := r.Reserve(ctx, command.ReserveRequest{ID: "e", Lines: []sellable.ReservationLine{{Key: k, Count: 4}}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if res, err := r.Expire(ctx, "e"); err != nil || res.State != sellable.Expired {
				t.Errorf("expire: %+v %v", res, err)
			}
		})
	}
	wg.Wait()
	wantPosition(t, s, k, 10, 0)
	if got := storedEvents(t, s); got != 1+2+2 { // adjustment, hold+record, expiry+record
		t.Fatalf("stored %d events, want 5", got)
	}
}

// Records added at creation ride in the creating batch: stored with the
// holds when the cart is reserved, not at all when it is refused.
func TestCreationRecordsRideInTheBatch(t *testing.T) {
	s, r := reservations(t, 2)
	ctx := context.Background()
	k := sellable.Key{LocationID: "STL", SKU: "s"}
	adjust(t, s, k, 1)
	r.SetCreationRecords(func(res sellable.CartReservation) ([]command.Record, error) {
		return []command.Record{{Subject: streams.CartSubject("extra-" + res.ID), Data: []byte(res.ExpiresAt.Format(time.RFC3339)), Unchecked: true}}, nil
	})
	if _, err := r.Reserve(ctx, command.ReserveRequest{ID: "no", Lines: []sellable.ReservationLine{{Key: k, Count: 2}}}); !errors.Is(err, sellable.ErrInsufficientStock) {
		t.Fatal(err)
	}
	before := storedEvents(t, s)
	if _, err := r.Reserve(ctx, command.ReserveRequest{ID: "yes", Lines: []sellable.ReservationLine{{Key: k, Count: 1}}}); err != nil {
		t.Fatal(err)
	}
	if got := storedEvents(t, s); got != before+3 {
		t.Fatalf("stored %d messages, want hold, record and extra", got-before)
	}
	st, err := s.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, streams.CartSubject("extra-no")); err == nil {
		t.Fatal("a refused cart stored its extra record")
	}
}
