package kv_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

func openStore(t *testing.T) (*natstest.Server, *kv.Store) {
	t.Helper()
	s := natstest.Start(t)
	store, err := kv.Open(context.Background(), s.JS, kv.Config{Partitions: 4, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s, store
}

// add is an UpdateFunc that adds n to the adjusted quantity.
func add(n int64) kv.UpdateFunc {
	return func(k streams.Key, cur sellable.Position) (sellable.Position, bool) {
		cur.LocationID, cur.SKU = k.LocationID, k.SKU
		cur.Adjusted += n
		cur.Count = cur.Adjusted - cur.Reserved
		cur.Seq++
		return cur, true
	}
}

func TestGetMissingIsNotFound(t *testing.T) {
	_, store := openStore(t)
	_, err := store.Get(context.Background(), "STL", "nope")
	if !errors.Is(err, sellable.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	var fe *sellable.FieldError
	if _, err := store.Get(context.Background(), "", "x"); !errors.As(err, &fe) || fe.Field != "locationId" {
		t.Fatalf("empty location: %v, want field error on locationId", err)
	}
}

func TestWriterUpdatesAndReadsBack(t *testing.T) {
	s, store := openStore(t)
	ctx := context.Background()
	k := streams.Key{LocationID: "STL", SKU: "123123"}
	w := store.Writer(s.JS, k.Partition(store.Partitions()))
	for i := 0; i < 3; i++ {
		if _, err := w.Update(ctx, []streams.Key{k}, add(10)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.Get(ctx, k.LocationID, k.SKU)
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 30 || got.Seq != 3 {
		t.Fatalf("got %+v, want count 30 seq 3", got)
	}
}

func TestWriterUnchangedWritesNothing(t *testing.T) {
	s, store := openStore(t)
	ctx := context.Background()
	k := streams.Key{LocationID: "STL", SKU: "1"}
	w := store.Writer(s.JS, k.Partition(store.Partitions()))
	out, err := w.Update(ctx, []streams.Key{k}, func(streams.Key, sellable.Position) (sellable.Position, bool) {
		return sellable.Position{Count: 99}, false
	})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Count != 0 {
		t.Fatalf("unchanged update returned %+v, want the current (zero) position", out[0])
	}
	if _, err := store.Get(ctx, k.LocationID, k.SKU); !errors.Is(err, sellable.ErrNotFound) {
		t.Fatalf("unchanged update wrote something: %v", err)
	}
}

// Two writers on one partition (a stale owner and a new one) must never
// lose an update: compare-and-set makes the loser re-read and retry.
func TestConcurrentWritersLoseNoUpdate(t *testing.T) {
	s, store := openStore(t)
	ctx := context.Background()
	keys := []streams.Key{{LocationID: "A", SKU: "1"}, {LocationID: "A", SKU: "2"}, {LocationID: "B", SKU: "1"}}
	p := keys[0].Partition(store.Partitions())
	var same []streams.Key
	for _, k := range keys {
		if k.Partition(store.Partitions()) == p {
			same = append(same, k)
		}
	}
	const writers, rounds = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := store.Writer(s.JS, p)
			for r := 0; r < rounds; r++ {
				if _, err := w.Update(ctx, same, add(1)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, k := range same {
		got, err := store.Get(ctx, k.LocationID, k.SKU)
		if err != nil {
			t.Fatal(err)
		}
		if got.Adjusted != writers*rounds {
			t.Fatalf("%v: adjusted %d, want %d", k, got.Adjusted, writers*rounds)
		}
	}
}

// A writer whose cache went stale (another owner wrote since) must report
// the bucket's value when it has nothing to write, so that the change it
// announces is never older than the view.
func TestUnchangedReportsFreshValueNotCache(t *testing.T) {
	s, store := openStore(t)
	ctx := context.Background()
	k := streams.Key{LocationID: "STL", SKU: "stale"}
	p := k.Partition(store.Partitions())
	stale, fresh := store.Writer(s.JS, p), store.Writer(s.JS, p)
	if _, err := stale.Update(ctx, []streams.Key{k}, add(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Update(ctx, []streams.Key{k}, add(1)); err != nil {
		t.Fatal(err)
	}
	out, err := stale.Update(ctx, []streams.Key{k}, func(_ streams.Key, cur sellable.Position) (sellable.Position, bool) {
		return cur, false
	})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Adjusted != 2 || out[0].Seq != 2 {
		t.Fatalf("unchanged update reported %+v, want the bucket's adjusted 2 seq 2", out[0])
	}
}
