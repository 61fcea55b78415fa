package query_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/query"
	"github.com/sellable/inventory/sellable"
)

func record(t *testing.T, sys *systemtest.System, kind sellable.Kind, loc, sku string, n int64) uint64 {
	t.Helper()
	rc, err := sys.Commands.Record(context.Background(), sellable.Command{Kind: kind, LocationID: loc, SKU: sku, Count: n})
	if err != nil {
		t.Fatal(err)
	}
	return rc.Seq
}

// GetAtLeast waits for the view to reflect a sequence, says how far it is
// when it does not, and does not wait for what the key never had.
func TestGetAtLeast(t *testing.T) {
	ctx := context.Background()
	sys := systemtest.Start(t, systemtest.Config{})
	r := query.NewReader(sys.View, query.NewEventLog(sys.JS, nil))

	// Nothing of the key anywhere: not found at once, whatever minSeq.
	if _, err := r.GetAtLeast(ctx, "L", "none", 1_000_000, time.Minute); !errors.Is(err, sellable.ErrNotFound) {
		t.Fatalf("unknown key = %v, want ErrNotFound", err)
	}

	// No calculator: the view is behind the write, and says so.
	seq := record(t, sys, sellable.Adjustment, "L", "a", 5)
	start := time.Now()
	_, err := r.GetAtLeast(ctx, "L", "a", seq, 100*time.Millisecond)
	var behind *sellable.BehindError
	if !errors.As(err, &behind) || behind.MinSeq != seq || behind.Seq != 0 || !errors.Is(err, sellable.ErrBehind) {
		t.Fatalf("behind view = %v, want BehindError{MinSeq: %d, Seq: 0}", err, seq)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("gave up after %v, before the wait", d)
	}
	if _, err := r.Get(ctx, "L", "a"); !errors.Is(err, sellable.ErrNotFound) {
		t.Fatalf("Get without minSeq = %v, want the view as it is (not found)", err)
	}

	// A reader already waiting sees the write once a calculator runs.
	done := make(chan error, 1)
	go func() {
		pos, err := r.GetAtLeast(ctx, "L", "a", seq, 30*time.Second)
		if err == nil && (pos.Seq < seq || pos.Count != 5) {
			err = errors.New("answered a position older than the write")
		}
		done <- err
	}()
	sys.StartCalculator(t, nil, nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A later write to another key: this key reflects everything it had
	// up to that sequence, so there is nothing to wait for.
	other := record(t, sys, sellable.Adjustment, "L", "b", 1)
	pos, err := r.GetAtLeast(ctx, "L", "a", other, 0)
	if err != nil || pos.Count != 5 {
		t.Fatalf("key a at b's seq = %+v, %v", pos, err)
	}

	// Every write read back at its own sequence shows itself.
	for i := range 50 {
		seq := record(t, sys, sellable.Reservation, "L", "a", 1)
		pos, err := r.GetAtLeast(ctx, "L", "a", seq, 10*time.Second)
		if err != nil || pos.Seq < seq || pos.Count != int64(5-i-1) {
			t.Fatalf("write %d at seq %d read back as %+v, %v", i, seq, pos, err)
		}
	}
}
