package command

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Requests that differ anywhere have different fingerprints, including
// where a plain concatenation of the fields would be equal.
func TestFingerprintTellsRequestsApart(t *testing.T) {
	adj := sellable.Command{Kind: sellable.Adjustment, LocationID: "ab", SKU: "c", Count: 1}
	res := adj
	res.Kind = sellable.Reservation
	shifted := adj
	shifted.LocationID, shifted.SKU = "a", "bc"
	count := adj
	count.Count = 11
	keyOnly := adj
	keyOnly.IdempotencyKey = "ignored"
	seen := map[string]string{}
	for name, fp := range map[string]string{
		"adjustment":           fingerprint(scope(adj.Kind), adj),
		"reservation":          fingerprint(scope(res.Kind), res),
		"shifted identifiers":  fingerprint(scope(adj.Kind), shifted),
		"other count":          fingerprint(scope(adj.Kind), count),
		"batch of it":          fingerprint(scopeBatch, adj),
		"batch of two":         fingerprint(scopeBatch, adj, adj),
		"batch in other order": fingerprint(scopeBatch, adj, res),
		"batch in order":       fingerprint(scopeBatch, res, adj),
	} {
		if other, ok := seen[fp]; ok {
			t.Errorf("%s and %s share fingerprint %s", name, other, fp)
		}
		seen[fp] = name
	}
	if fingerprint(scope(adj.Kind), adj) != fingerprint(scope(adj.Kind), keyOnly) {
		t.Error("the key itself changed the fingerprint")
	}
}

// No single command's id is a batch command's id, nor one batch's
// another's, whatever the keys hold.
func TestMsgIDsOfSinglesAndBatchesAreDistinct(t *testing.T) {
	ids := map[string]string{}
	add := func(id, what string) {
		if other, ok := ids[id]; ok {
			t.Errorf("%s and %s share Nats-Msg-Id %q", what, other, id)
		}
		ids[id] = what
	}
	c := sellable.Command{Kind: sellable.Adjustment, LocationID: "L", SKU: "S", Count: 1}
	batches := map[string]string{
		"one":   fingerprint(scopeBatch, c, c),
		"other": fingerprint(scopeBatch, c, c, c),
	}
	for _, key := range []string{"r", "r/0", "r/1", "r/1/0", "batch:r", "req:r", ":", "/"} {
		add(requestMsgID(key), "single or batch "+key)
		for name, hash := range batches {
			for i := 1; i < 3; i++ {
				add(batchMsgID(key, hash, i), fmt.Sprintf("batch %s %q command %d", name, key, i))
			}
		}
	}
}

// A batch retried after only its first commands were stored (a 503 half
// way) stores the rest once and answers the stored ones as duplicates.
func TestBatchRetryAfterPartialStoreStoresTheRest(t *testing.T) {
	s := stacktest.Start(t, 0)
	ctx := context.Background()
	cfg := s.Streams
	svc := NewService(s.JS, wire.JSON{}, cfg.Partitions)
	var cs []sellable.Command
	for i := range 4 {
		cs = append(cs, sellable.Command{Kind: sellable.Adjustment, LocationID: "P", SKU: fmt.Sprint(i), Count: int64(i + 1)})
	}
	// What the first attempt got stored before it failed: commands 0 and 1,
	// exactly as RecordBatch publishes them.
	msgs := make([]*nats.Msg, len(cs))
	for i, c := range cs {
		var err error
		if msgs[i], _, err = svc.message(c); err != nil {
			t.Fatal(err)
		}
	}
	stampBatch(msgs, "feed", fingerprint(scopeBatch, cs...))
	var first []uint64
	for _, msg := range msgs[:2] {
		ack, err := s.JS.PublishMsg(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, ack.Sequence)
	}
	rcs, err := svc.RecordBatch(ctx, cs, "feed")
	if err != nil {
		t.Fatal(err)
	}
	for i, rc := range rcs {
		stored := i < len(first)
		if rc.Duplicate != stored || (stored && rc.Seq != first[i]) {
			t.Errorf("command %d: %+v, want duplicate=%v", i, rc, stored)
		}
		if want := streams.Partition(sellable.Key{LocationID: "P", SKU: cs[i].SKU}, cfg.Partitions); rc.Partition != want {
			t.Errorf("command %d: partition %d, want %d", i, rc.Partition, want)
		}
	}
	st, err := s.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 4 {
		t.Fatalf("stored %d events, want 4", info.State.Msgs)
	}
}
