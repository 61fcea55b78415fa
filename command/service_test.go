package command_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// A retry whose original was removed from the stream (purged, aged out)
// while its key is still in the duplicate window cannot show that the
// caller's command is stored, so it is not answered as a duplicate.
func TestRetryOfARemovedOriginalIsAConflict(t *testing.T) {
	s := stacktest.Start(t, 0)
	ctx := context.Background()
	svc := command.NewService(s.JS, wire.JSON{}, s.Streams.Partitions)
	c := sellable.Command{Kind: sellable.Adjustment, LocationID: "L", SKU: "gone", Count: 3, IdempotencyKey: "k"}
	rc, err := svc.Record(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, rc.Seq); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Record(ctx, c); !errors.Is(err, sellable.ErrIdempotencyConflict) {
		t.Fatalf("retry after the original was deleted: %v, want %v", err, sellable.ErrIdempotencyConflict)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Fatalf("stored %d events, want none", info.State.Msgs)
	}
}
