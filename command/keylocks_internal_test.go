package command

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sellable/inventory/sellable"
)

// Decisions on overlapping keys, given in any order, take turns without
// deadlock; what one holds, no other has (the race detector watches the
// unguarded counters); the table is empty once all are done.
func TestKeyLocksExcludeAndNeverDeadlock(t *testing.T) {
	var l keyLocks
	a, b, c := sellable.Key{LocationID: "L", SKU: "a"}, sellable.Key{LocationID: "L", SKU: "b"}, sellable.Key{LocationID: "M", SKU: "c"}
	sets := [][]sellable.Key{{a, b}, {b, a}, {c, a}, {b}, {a, b, c}, {c, b, a}}
	counts := map[sellable.Key]*int{a: new(int), b: new(int), c: new(int)} // read-only map, each int guarded by its key's lock
	var wg sync.WaitGroup
	for g := range 24 {
		wg.Go(func() {
			for range 200 {
				keys := sets[g%len(sets)]
				unlock, err := l.lock(context.Background(), keys)
				if err != nil {
					t.Error(err)
					return
				}
				for _, k := range keys {
					*counts[k]++
				}
				unlock()
			}
		})
	}
	wg.Wait()
	if len(l.m) != 0 {
		t.Fatalf("%d locks left", len(l.m))
	}
	// A decision that cannot get its key gives up with its context.
	unlock, _ := l.lock(context.Background(), []sellable.Key{a})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.lock(ctx, []sellable.Key{b, a}); err == nil {
		t.Fatal("took a held lock")
	}
	unlock()
	if len(l.m) != 0 {
		t.Fatalf("%d locks left after a give-up", len(l.m))
	}
}
