package kv_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// keysOf returns n keys of partition p, named after tag.
func keysOf(store *kv.Store, p int, tag string, n int) []sellable.Key {
	var keys []sellable.Key
	for i := 0; len(keys) < n; i++ {
		k := sellable.Key{LocationID: "L", SKU: fmt.Sprint(tag, "-", i)}
		if streams.Partition(k, store.Partitions()) == p {
			keys = append(keys, k)
		}
	}
	return keys
}

// update writes keys in batches of size, each with fn.
func update(t *testing.T, w *kv.Writer, keys []sellable.Key, size int, fn kv.UpdateFunc) {
	t.Helper()
	for i := 0; i < len(keys); i += size {
		if _, err := w.Update(context.Background(), keys[i:min(i+size, len(keys))], fn); err != nil {
			t.Fatal(err)
		}
	}
}

func wantOnHand(t *testing.T, store *kv.Store, keys []sellable.Key, want int64) {
	t.Helper()
	for _, k := range keys {
		got, err := store.Get(context.Background(), k.LocationID, k.SKU)
		if err != nil {
			t.Fatalf("%v: %v", k, err)
		}
		if got.OnHand != want {
			t.Fatalf("%v: adjusted %d, want %d", k, got.OnHand, want)
		}
	}
}

// While the keys a writer does not know turn out new, it writes them as
// creates without reading them first: a growing catalogue costs one KV
// write per new key, not a read and a write. A few dozen reads at the
// start teach it that the keys are new.
func TestNewKeysAreCreatedWithoutARead(t *testing.T) {
	s, store := openStore(t)
	keys := keysOf(store, 0, "new", 400)
	w := store.Writer(s.JS, 0)
	update(t, w, keys, 50, add(3))
	st := w.Stats()
	if st.Reads > 40 {
		t.Fatalf("%d of %d new keys read before their write (stats %+v), want at most 40", st.Reads, len(keys), st)
	}
	if st.Creates+st.Reads != uint64(len(keys)) || st.CreateConflicts != 0 {
		t.Fatalf("stats %+v over %d new keys: want every key read or created, no conflict", st, len(keys))
	}
	wantOnHand(t, store, keys, 3)
}

// A writer that creates blind and meets keys already in the bucket (here
// written by another writer it does not know of) has its creates refused,
// reads those keys and folds them again: no update is lost or doubled.
func TestExistingKeyCreatedBlindFoldsExactly(t *testing.T) {
	s, store := openStore(t)
	old := keysOf(store, 0, "old", 100)
	update(t, store.Writer(s.JS, 0), old, 50, add(5))

	w := store.Writer(s.JS, 0)
	update(t, w, keysOf(store, 0, "new", 200), 50, add(1)) // now creating blind
	before := w.Stats()
	update(t, w, old, 100, add(2))
	st := w.Stats()
	if st.CreateConflicts == before.CreateConflicts {
		t.Fatalf("no create conflicted (stats %+v then %+v): the existing keys were not created blind", before, st)
	}
	wantOnHand(t, store, old, 7)
}

// A writer that starts over a warm view (a restart, or a new owner of a
// partition) reads the keys it misses instead of failing a blind create
// on each: it starts by reading and only creates blind once reads find
// mostly new keys.
func TestWarmViewIsReadNotCreatedBlind(t *testing.T) {
	s, store := openStore(t)
	keys := keysOf(store, 0, "warm", 300)
	update(t, store.Writer(s.JS, 0), keys, 100, add(1))

	w := store.Writer(s.JS, 0)
	update(t, w, keys, 100, add(1))
	if st := w.Stats(); st.Creates != 0 || st.Reads != uint64(len(keys)) {
		t.Fatalf("stats %+v over %d existing keys, want every key read and none created", st, len(keys))
	}
	wantOnHand(t, store, keys, 2)
}

// Two owners of a partition at once, as during a takeover, both creating
// the same new keys blind: the old owner folds events 1 and 2 of each
// key, the new one events 1 to 3. Each event counts once and none is
// lost, whoever creates a key first: a blind create that overwrote the
// other's would leave keys at 11. The fold is guarded by the events'
// sequences, as the calculator's is.
func TestTakeoverMidCreationAppliesEachEventOnce(t *testing.T) {
	s, store := openStore(t)
	ctx := context.Background()
	keys := keysOf(store, 0, "race", 200)
	at := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	// Events 1..n of every key: adjustments of 1, 10 and 100.
	fold := func(n int) kv.UpdateFunc {
		return func(k sellable.Key, cur sellable.Position) (sellable.Position, bool) {
			cur.LocationID, cur.SKU = k.LocationID, k.SKU
			changed := false
			for seq, c := range []int64{1, 10, 100}[:n] {
				if cur.Apply(sellable.Adjustment, c, uint64(seq+1), at) {
					changed = true
				}
			}
			return cur, changed
		}
	}
	var writers [2]*kv.Writer
	for i := range writers {
		writers[i] = store.Writer(s.JS, 0)
		// Teach both that keys they miss are new, so they create blind.
		update(t, writers[i], keysOf(store, 0, fmt.Sprint("warmup", i), 64), 64, add(1))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(writers))
	for i, w := range writers {
		events := 2 + i
		wg.Go(func() {
			for i := 0; i < len(keys); i += 20 {
				if _, err := w.Update(ctx, keys[i:i+20], fold(events)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	creates := writers[0].Stats().Creates + writers[1].Stats().Creates
	if creates < uint64(len(keys)) {
		t.Fatalf("%d blind creates for %d keys written by two writers: the race was not between creates", creates, len(keys))
	}
	wantOnHand(t, store, keys, 111)
	for _, k := range keys {
		got, _ := store.Get(ctx, k.LocationID, k.SKU)
		if got.Seq != 3 {
			t.Fatalf("%v: seq %d, want 3", k, got.Seq)
		}
	}
}
