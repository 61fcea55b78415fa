package command_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// SwallowAcks starts a server where adjustments reach a subscriber that
// never answers, as if the stream stored them and its ack were lost, and
// counts them: every publish stays pending until the ack timeout.
func swallowAcks(t *testing.T) (*natstest.Server, *atomic.Int64) {
	t.Helper()
	s := natstest.Start(t)
	var got atomic.Int64
	sub, err := s.NC.Subscribe(streams.EventSubjectFilter(sellable.Adjustment), func(*nats.Msg) { got.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := s.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	return s, &got
}

// A command whose ack never comes is refused as unavailable once the ack
// timeout passes (never a 2xx without the ack); while it holds the only
// slot of the window, the next command is refused as busy after the
// stall wait instead of queueing behind it.
func TestFullWindowIsBusyAndALostAckUnavailable(t *testing.T) {
	s, got := swallowAcks(t)
	svc := command.NewService(s.JS, wire.JSON{}, 8, command.WithAsyncWindow(1))
	ctx := context.Background()
	c := sellable.Command{Kind: sellable.Adjustment, LocationID: "L", SKU: "S", Count: 1}
	first := make(chan error, 1)
	go func() {
		_, err := svc.Record(ctx, c)
		first <- err
	}()
	poll.Until(t, 5*time.Second, "first command sent", func() error {
		if got.Load() < 1 {
			return errors.New("not yet")
		}
		return nil
	})
	_, err := svc.Record(ctx, c)
	if !errors.Is(err, command.ErrBusy) || !errors.Is(err, sellable.ErrUnavailable) {
		t.Fatalf("second command with the window full: %v, want %v (an %v)", err, command.ErrBusy, sellable.ErrUnavailable)
	}
	if n := got.Load(); n != 1 {
		t.Fatalf("%d commands sent, want only the first", n)
	}
	err = <-first
	if !errors.Is(err, sellable.ErrUnavailable) || errors.Is(err, command.ErrBusy) {
		t.Fatalf("command whose ack never came: %v, want %v and not busy", err, sellable.ErrUnavailable)
	}
}

// A request whose context ends while its ack is awaited returns at once
// with the context's error, an ErrUnavailable.
func TestRecordReturnsWhenItsContextEnds(t *testing.T) {
	s, got := swallowAcks(t)
	svc := command.NewService(s.JS, wire.JSON{}, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := svc.Record(ctx, sellable.Command{Kind: sellable.Adjustment, LocationID: "L", SKU: "S", Count: 1})
		done <- err
	}()
	poll.Until(t, 5*time.Second, "command sent", func() error {
		if got.Load() < 1 {
			return errors.New("not yet")
		}
		return nil
	})
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || !errors.Is(err, sellable.ErrUnavailable) {
		t.Fatalf("canceled while awaiting the ack: %v, want %v wrapping %v", err, sellable.ErrUnavailable, context.Canceled)
	}
}
