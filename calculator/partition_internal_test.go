package calculator

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/wire"
)

// Two workers folding the same partition at once, as when a lease expires
// under a paused owner, must still apply every event exactly once: the
// view's sequence check and compare-and-set writes do not rely on leases.
func TestDoubledOwnerAppliesEachEventOnce(t *testing.T) {
	s := stacktest.Start(t, 1)
	ctx := context.Background()
	offs, err := openOffsets(ctx, s.JS, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Partitions = 1
	cfg.MaxBatch = 7 // small batches interleave the two workers more
	cfg.Logger = slog.New(slog.DiscardHandler)

	for i := 0; i < 2; i++ {
		p := &partition{id: 0, js: s.JS, writer: s.View.Writer(s.JS, 0), offsets: offs,
			codecs: wire.NewCodecs(), cfg: cfg, log: cfg.Logger, stats: &Stats{}}
		stacktest.Go(t, p.run)
	}

	cmds := command.NewService(s.JS, wire.JSON{}, 1)
	const events = 600
	want := map[string]int64{}
	lastSeq := map[string]uint64{}
	for i := 0; i < events; i++ {
		sku := fmt.Sprint(i % 3)
		kind, n := sellable.Adjustment, int64(5)
		if i%2 == 1 {
			kind, n = sellable.Reservation, 2
		}
		rc, err := cmds.Record(ctx, sellable.Command{Kind: kind, LocationID: "L", SKU: sku, Count: n})
		if err != nil {
			t.Fatal(err)
		}
		if kind == sellable.Adjustment {
			want[sku] += n
		} else {
			want[sku] -= n
		}
		lastSeq[sku] = rc.Seq
	}
	poll.Until(t, 15*time.Second, "every event applied once", func() error {
		for sku, n := range want {
			p, err := s.View.Get(ctx, "L", sku)
			if err != nil || p.Seq != lastSeq[sku] || p.Count != n {
				return fmt.Errorf("sku %s: %+v (%v), want count %d", sku, p, err, n)
			}
		}
		return nil
	})
}
