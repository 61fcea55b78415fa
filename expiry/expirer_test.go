package expiry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/expiry"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// expiries counts the Expiry events stored for each reservation.
func expiries(t *testing.T, sys *systemtest.System) map[string]int {
	t.Helper()
	ctx := context.Background()
	st, err := sys.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		kind, _, _, err := streams.ParseStoredSubject(m.Subject)
		if err != nil || kind != sellable.Expiry {
			continue // a cart record or another kind
		}
		e, _, err := sys.Wire.Decoders.DecodeStored(ctx, m.Subject, m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		out[e.ReservationID]++
	}
	return out
}

// TestReservationsExpireExactlyOnce runs the whole mechanism on a real
// server: Reserve schedules first, two relays (two instances) decide
// the fired schedules through the reservation service. An active
// reservation expires once, within a second of expiresAt, whatever the
// duplicates; a confirmed one never does; a released one returns its
// units once; a schedule whose reservation was never stored (a crash
// between the two writes) changes nothing.
func TestReservationsExpireExactlyOnce(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4})
	sys.StartCalculator(t, nil, nil)
	ctx := context.Background()
	sched := expiry.NewScheduler(sys.JS)
	rs := command.NewReservations(sys.Decider(), command.WithExpiry(sched))
	for range 2 {
		startRelay(t, sys.Server, expiry.NewExpirer(rs))
	}
	a, b := sellable.Key{LocationID: "STL", SKU: "a"}, sellable.Key{LocationID: "NYC", SKU: "b"}
	for _, k := range []sellable.Key{a, b} {
		if _, err := sys.Commands.Record(ctx, sellable.Command{Kind: sellable.Adjustment, LocationID: k.LocationID, SKU: k.SKU, Count: 100}); err != nil {
			t.Fatal(err)
		}
	}
	reserve := func(id string, lines ...sellable.ReservationLine) sellable.CartReservation {
		t.Helper()
		res, err := rs.Reserve(ctx, command.ReserveRequest{ID: id, TTL: sellable.MinReservationTTL, Lines: lines})
		if err != nil {
			t.Fatalf("reserve %s: %v", id, err)
		}
		return res.Reservation
	}
	expiring := reserve("expiring", sellable.ReservationLine{Key: a, Count: 10}, sellable.ReservationLine{Key: b, Count: 20})
	reserve("confirmed", sellable.ReservationLine{Key: a, Count: 1})
	reserve("released", sellable.ReservationLine{Key: b, Count: 2})
	if _, err := rs.Confirm(ctx, "confirmed"); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Release(ctx, "released"); err != nil {
		t.Fatal(err)
	}
	// The same schedule again (a retried decision) and one for a
	// reservation that was never stored.
	if err := sched.Schedule(ctx, "expiring", expiring.ExpiresAt, []sellable.Key{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := sched.Schedule(ctx, "never-stored", time.Now().Add(500*time.Millisecond), []sellable.Key{a}); err != nil {
		t.Fatal(err)
	}

	pos := func(k sellable.Key) sellable.Position {
		p, err := sys.View.Get(ctx, k.LocationID, k.SKU)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	poll.Until(t, 3*time.Second, "holds applied", func() error {
		if pa, pb := pos(a), pos(b); pa.Reserved != 11 || pb.Reserved != 20 {
			return fmt.Errorf("reserved a %d b %d", pa.Reserved, pb.Reserved)
		}
		return nil
	})
	var back time.Time
	poll.Until(t, sellable.MinReservationTTL+5*time.Second, "expired units back", func() error {
		if pa, pb := pos(a), pos(b); pa.Reserved != 1 || pb.Reserved != 0 {
			return fmt.Errorf("reserved a %d b %d", pa.Reserved, pb.Reserved)
		}
		back = time.Now()
		return nil
	})
	if late := back.Sub(expiring.ExpiresAt); late < 0 || late > time.Second {
		t.Fatalf("units back %v after expiresAt", late)
	}
	t.Logf("units back %v after expiresAt", back.Sub(expiring.ExpiresAt).Round(time.Millisecond))
	poll.Until(t, 5*time.Second, "every fired schedule decided", func() error {
		if n := scheduleMsgs(t, sys.Server); n != 0 {
			return fmt.Errorf("%d left", n)
		}
		return nil
	})
	for id, want := range map[string]sellable.ReservationState{"expiring": sellable.Expired, "confirmed": sellable.Confirmed, "released": sellable.Released} {
		res, err := rs.Get(ctx, id)
		if err != nil || res.State != want {
			t.Fatalf("%s: %v %v, want %v", id, res.State, err, want)
		}
	}
	if _, err := rs.Get(ctx, "never-stored"); !errors.Is(err, sellable.ErrReservationNotFound) {
		t.Fatalf("never-stored: %v", err)
	}
	if got := expiries(t, sys); len(got) != 1 || got["expiring"] != 2 {
		t.Fatalf("expiry events per reservation %v, want expiring's two lines once", got)
	}
	if pa, pb := pos(a), pos(b); pa.OnHand != 100 || pa.Reserved != 1 || pb.OnHand != 100 || pb.Reserved != 0 {
		t.Fatalf("a %+v b %+v", pa, pb)
	}
}
