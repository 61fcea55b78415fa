package command_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/metrics"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// TestCountNeverLosesAConcurrentEvent races stock counts against a
// stream of adjustments on the same key. A count is an adjustment
// decided on the on-hand as of the key's last event; an adjustment
// stored in between must make the stream refuse it (expected last
// subject sequence) and the count decide again. So, replaying the
// stream, on-hand right after each count's adjustment is exactly the
// counted value. Without the check, a count decided on a stale on-hand
// lands off target (an adjustment in between is lost).
func TestCountNeverLosesAConcurrentEvent(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 2})
	sys.StartCalculator(t, nil, nil)
	ctx := context.Background()
	counts := command.NewCounts(sys.Decider(), sys.Streams.Partitions)
	key := sellable.Key{LocationID: "race", SKU: "count"}

	retriesBefore := testutil.ToFloat64(metrics.DecisionRetries)
	const adjustments, countsPerWorker, workers = 300, 15, 4
	var wg sync.WaitGroup
	wg.Go(func() {
		for range adjustments {
			if _, err := sys.Commands.Record(ctx, sellable.Command{Kind: sellable.Adjustment, LocationID: key.LocationID, SKU: key.SKU, Count: 1}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var mu sync.Mutex
	results := map[uint64]int64{} // seq the count reflects → its target
	for w := range workers {
		wg.Go(func() {
			for i := range countsPerWorker {
				target := int64(1000 * (w*countsPerWorker + i + 1))
				res, err := counts.Count(ctx, sellable.StockCount{Key: key, OnHand: target})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				results[res.Receipt.Seq] = target
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	st, err := sys.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	codecs := wire.NewCodecs()
	var onHand int64
	checked := 0
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		e, _, err := codecs.DecodeStored(ctx, m.Subject, m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		onHand += e.Count
		if target, ok := results[seq]; ok {
			checked++
			if onHand != target {
				t.Errorf("after the count at seq %d on-hand is %d, want its target %d", seq, onHand, target)
			}
		}
	}
	if checked != len(results) || checked != workers*countsPerWorker {
		t.Fatalf("checked %d counts of %d", checked, workers*countsPerWorker)
	}
	// The race did make decisions start again, and they were counted.
	if testutil.ToFloat64(metrics.DecisionRetries) == retriesBefore {
		t.Fatal("no decision retried under the race (or inventory_decision_retries_total not counted)")
	}
}
