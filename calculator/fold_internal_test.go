package calculator

import (
	"testing"
	"time"

	"github.com/sellable/inventory/sellable"
)

// TestBatchFoldGroupsInOrderAndResets: keys come out in order of first
// appearance, each key's events fold in stream order (a reservation
// after an adjustment of the same key sees it), a reset forgets the
// previous batch, and once grown a batch groups without allocating.
func TestBatchFoldGroupsInOrderAndResets(t *testing.T) {
	a, b, c := sellable.Key{LocationID: "L", SKU: "a"}, sellable.Key{LocationID: "L", SKU: "b"}, sellable.Key{LocationID: "M", SKU: "a"}
	at := time.Unix(100, 0).UTC()
	f := newBatchFold()
	batch := []sellable.Event{
		{Kind: sellable.Adjustment, Key: b, Count: 10},
		{Kind: sellable.Adjustment, Key: a, Count: 5},
		{Kind: sellable.Reservation, Key: b, Count: 3},
		{Kind: sellable.Adjustment, Key: c, Count: 1},
		{Kind: sellable.Adjustment, Key: b, Count: -2},
	}
	for i, e := range batch {
		f.add(e, uint64(i+1), at.Add(time.Duration(i)*time.Second))
	}
	if want := []sellable.Key{b, a, c}; len(f.keys) != 3 || f.keys[0] != want[0] || f.keys[1] != want[1] || f.keys[2] != want[2] {
		t.Fatalf("keys = %v, want %v", f.keys, want)
	}
	var pb sellable.Position
	if !f.apply(b, &pb) || pb.OnHand != 8 || pb.Reserved != 3 || pb.Count != 5 || pb.Seq != 5 || !pb.UpdatedAt.Equal(at.Add(4*time.Second)) {
		t.Fatalf("b folded to %+v", pb)
	}
	// Redelivered: the position already reflects every event.
	if f.apply(b, &pb) {
		t.Error("a position that reflects the batch changed again")
	}
	// Partly reflected: only the events after its seq apply.
	pb = sellable.Position{Seq: 3, OnHand: 10, Reserved: 3}
	if !f.apply(b, &pb) || pb.OnHand != 8 || pb.Reserved != 3 || pb.Seq != 5 {
		t.Errorf("b at seq 3 folded to %+v, want only seq 5 applied", pb)
	}
	pa := sellable.Position{Seq: 2, OnHand: 7}
	if f.apply(a, &pa) || pa.OnHand != 7 {
		t.Errorf("a at seq 2 folded to %+v, want unchanged", pa)
	}

	f.reset()
	if len(f.keys) != 0 || len(f.steps) != 0 || f.apply(b, &sellable.Position{}) {
		t.Fatal("reset kept the previous batch")
	}
	f.add(sellable.Event{Kind: sellable.Adjustment, Key: c, Count: 4}, 9, at)
	var pc sellable.Position
	if !f.apply(c, &pc) || pc.OnHand != 4 || len(f.keys) != 1 {
		t.Fatalf("after reset c folded to %+v, keys %v", pc, f.keys)
	}

	allocs := testing.AllocsPerRun(20, func() {
		f.reset()
		for i, e := range batch {
			f.add(e, uint64(i+1), at)
		}
		for _, k := range f.keys {
			var p sellable.Position
			f.apply(k, &p)
		}
	})
	if allocs != 0 {
		t.Errorf("grouping a batch again allocates %v times, want 0", allocs)
	}
}
