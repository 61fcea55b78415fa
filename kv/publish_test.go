package kv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/metrics"
)

// A writer whose connection's window of unacknowledged async publishes is
// full for longer than nats.go's stall wait (200 ms) waits for room and
// then writes, instead of failing with ErrTooManyStalledMsgs, which
// stopped the calculator's partitions under bursts of distinct keys. The
// window is held full by publishes to a plain subscriber that answers
// them only when the test says so.
func TestWriterWaitsForRoomInAFullWindow(t *testing.T) {
	s, store := openStore(t)
	ctx := context.Background()
	const window = 4
	nc, _ := natstest.Connect(t, s.ClientURL())
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(window))
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan *nats.Msg, window)
	sub, err := s.NC.ChanSubscribe("held.>", held)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := s.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := range window {
		if _, err := js.PublishAsync(fmt.Sprint("held.", i), nil); err != nil {
			t.Fatal(err)
		}
	}

	stalls := testutil.ToFloat64(metrics.PublishStalls)
	keys := keysOf(store, 0, "stall", 10)
	w := store.Writer(js, 0)
	done := make(chan error, 1)
	go func() {
		_, err := w.Update(ctx, keys, add(1))
		done <- err
	}()
	poll.Until(t, 5*time.Second, "the writer to stall on the full window", func() error {
		if testutil.ToFloat64(metrics.PublishStalls) == stalls {
			return errors.New("no stall yet")
		}
		return nil
	})
	// Still waiting, past the stall wait: not failed.
	select {
	case err := <-done:
		t.Fatalf("update ended while the window was full: %v", err)
	default:
	}
	for range window {
		m := <-held
		if err := m.Respond([]byte(`{"stream":"HELD","seq":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("update after the window freed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("update still waiting after the window freed")
	}
	wantOnHand(t, store, keys, 1)
}
