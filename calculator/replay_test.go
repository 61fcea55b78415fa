package calculator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// wantChange waits until SELLABLE's last change for loc/sku reflects seq.
func (e *env) wantChange(t *testing.T, sellStream jetstream.Stream, loc, sku string, seq uint64) {
	t.Helper()
	subject := streams.SellableSubject(sellable.Key{LocationID: loc, SKU: sku})
	poll.Until(t, 10*time.Second, "change of "+loc+"/"+sku, func() error {
		m, err := sellStream.GetLastMsgForSubject(context.Background(), subject)
		if err != nil {
			return err
		}
		p, err := wire.DecodeChange(m.Header, m.Data)
		if err != nil {
			return err
		}
		if p.Seq != seq {
			return fmt.Errorf("change at seq %d, want %d", p.Seq, seq)
		}
		return nil
	})
}

// A replay (here of the whole log, as after a crash that lost every
// checkpoint) announces again only the values SELLABLE lacks: one whose
// announcement was lost (its owner died between the view write and the
// change's ack) is published, the others are not stored a second time.
// Changes carry no Nats-Msg-Id, so this holds however long ago they were
// first announced, not only within a duplicate window.
func TestReplayAnnouncesOnlyWhatSellableLacks(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	sellStream, err := e.JS.Stream(ctx, streams.SellableStream)
	if err != nil {
		t.Fatal(err)
	}
	_, stop := e.startCalculator(t, "c1")
	const keys = 6
	last := map[string]uint64{}
	for i := 0; i < 30; i++ {
		sku := fmt.Sprint(i % keys)
		e.record(t, sellable.Adjustment, "STL", sku, 3)
		last[sku] = e.record(t, sellable.Reservation, "STL", sku, 1)
	}
	for sku, seq := range last {
		e.wantChange(t, sellStream, "STL", sku, seq)
	}
	stop()

	lost := streams.SellableSubject(sellable.Key{LocationID: "STL", SKU: "0"})
	if err := sellStream.Purge(ctx, jetstream.WithPurgeSubject(lost)); err != nil {
		t.Fatal(err)
	}
	info, err := sellStream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := info.State.LastSeq
	offsets, err := e.JS.Stream(ctx, "KV_calculator_offsets")
	if err != nil {
		t.Fatal(err)
	}
	if err := offsets.Purge(ctx); err != nil {
		t.Fatal(err)
	}

	e.startCalculator(t, "c2")
	e.wantChange(t, sellStream, "STL", "0", last["0"])
	// One new event per key after the replay: once each one's change is
	// stored, every replayed event of its partition has been processed.
	for sku := range last {
		last[sku] = e.record(t, sellable.Adjustment, "STL", sku, 1)
	}
	for sku, seq := range last {
		e.wantChange(t, sellStream, "STL", sku, seq)
	}
	info, err = sellStream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.State.LastSeq-before, uint64(1+keys); got != want {
		t.Fatalf("%d changes stored after the replay, want %d (the lost one and one per new event)", got, want)
	}
}
