package kv_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

func openStore(t *testing.T) (*natstest.Server, *kv.Store) {
	t.Helper()
	s := stacktest.Start(t, 4)
	return s.Server, s.View
}

// add is an UpdateFunc that adds n to the adjusted quantity.
func add(n int64) kv.UpdateFunc {
	return func(k sellable.Key, cur sellable.Position) (sellable.Position, bool) {
		cur.LocationID, cur.SKU = k.LocationID, k.SKU
		cur.OnHand += n
		cur.Count = cur.OnHand - cur.Reserved
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
	k := sellable.Key{LocationID: "STL", SKU: "123123"}
	w := store.Writer(s.JS, streams.Partition(k, store.Partitions()))
	for i := 0; i < 3; i++ {
		if _, err := w.Update(ctx, []sellable.Key{k}, add(10)); err != nil {
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
	k := sellable.Key{LocationID: "STL", SKU: "1"}
	w := store.Writer(s.JS, streams.Partition(k, store.Partitions()))
	out, err := w.Update(ctx, []sellable.Key{k}, func(sellable.Key, sellable.Position) (sellable.Position, bool) {
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
	keys := []sellable.Key{{LocationID: "A", SKU: "1"}, {LocationID: "A", SKU: "2"}, {LocationID: "B", SKU: "1"}}
	p := streams.Partition(keys[0], store.Partitions())
	var same []sellable.Key
	for _, k := range keys {
		if streams.Partition(k, store.Partitions()) == p {
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
		if got.OnHand != writers*rounds {
			t.Fatalf("%v: adjusted %d, want %d", k, got.OnHand, writers*rounds)
		}
	}
}

// A writer whose cache went stale (another owner wrote since) must report
// the bucket's value when it has nothing to write, so that the change it
// announces is never older than the view.
func TestUnchangedReportsFreshValueNotCache(t *testing.T) {
	s, store := openStore(t)
	ctx := context.Background()
	k := sellable.Key{LocationID: "STL", SKU: "stale"}
	p := streams.Partition(k, store.Partitions())
	stale, fresh := store.Writer(s.JS, p), store.Writer(s.JS, p)
	if _, err := stale.Update(ctx, []sellable.Key{k}, add(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Update(ctx, []sellable.Key{k}, add(1)); err != nil {
		t.Fatal(err)
	}
	out, err := stale.Update(ctx, []sellable.Key{k}, func(_ sellable.Key, cur sellable.Position) (sellable.Position, bool) {
		return cur, false
	})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].OnHand != 2 || out[0].Seq != 2 {
		t.Fatalf("unchanged update reported %+v, want the bucket's adjusted 2 seq 2", out[0])
	}
}

// A key an operator deleted or purged is written over with compare-and-set
// on its marker's revision, starting from what the rebuild supplies, both
// when the writer had the key cached and when it reads it afresh. Before,
// it expected revision 0 and conflicted forever.
func TestWriterWritesOverDeleteAndPurgeMarkers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove func(ctx context.Context, b jetstream.KeyValue, key string) error
	}{
		{"delete", func(ctx context.Context, b jetstream.KeyValue, key string) error { return b.Delete(ctx, key) }},
		{"purge", func(ctx context.Context, b jetstream.KeyValue, key string) error { return b.Purge(ctx, key) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, store := openStore(t)
			ctx := context.Background()
			k := sellable.Key{LocationID: "STL", SKU: "gone"}
			p := streams.Partition(k, store.Partitions())
			bucket, err := s.JS.KeyValue(ctx, kv.BucketName(p))
			if err != nil {
				t.Fatal(err)
			}
			var rebuilt []sellable.Key
			rebuild := kv.WithRebuild(func(_ context.Context, k sellable.Key) (sellable.Position, error) {
				rebuilt = append(rebuilt, k)
				return sellable.Position{LocationID: k.LocationID, SKU: k.SKU, OnHand: 50, Count: 50, Seq: 10}, nil
			})
			cached := store.Writer(s.JS, p, rebuild)
			for range 2 {
				if _, err := cached.Update(ctx, []sellable.Key{k}, add(1)); err != nil {
					t.Fatal(err)
				}
			}
			for i, w := range []*kv.Writer{cached, store.Writer(s.JS, p, rebuild)} {
				if err := tc.remove(ctx, bucket, streams.KeyToken(k)); err != nil {
					t.Fatal(err)
				}
				out, err := w.Update(ctx, []sellable.Key{k}, add(1))
				if err != nil {
					t.Fatalf("writer %d: %v", i, err)
				}
				got, err := store.Get(ctx, k.LocationID, k.SKU)
				if err != nil {
					t.Fatal(err)
				}
				if got.OnHand != 51 || got.Seq != 11 || out[0] != got {
					t.Fatalf("writer %d: stored %+v, returned %+v; want the rebuilt 50 plus 1 at seq 11", i, got, out[0])
				}
				if len(rebuilt) != i+1 || rebuilt[i] != k {
					t.Fatalf("writer %d: rebuilt %v, want %v once more", i, rebuilt, k)
				}
			}
		})
	}
}

// A rebuilt value is written even when it already reflects the batch:
// the marker must not stay in the view.
func TestWriterReplacesMarkerEvenWhenNothingChanges(t *testing.T) {
	s, store := openStore(t)
	ctx := context.Background()
	k := sellable.Key{LocationID: "STL", SKU: "replayed"}
	p := streams.Partition(k, store.Partitions())
	w := store.Writer(s.JS, p, kv.WithRebuild(func(context.Context, sellable.Key) (sellable.Position, error) {
		return sellable.Position{LocationID: k.LocationID, SKU: k.SKU, Count: 7, OnHand: 7, Seq: 3}, nil
	}))
	if _, err := w.Update(ctx, []sellable.Key{k}, add(1)); err != nil {
		t.Fatal(err)
	}
	bucket, err := s.JS.KeyValue(ctx, kv.BucketName(p))
	if err != nil {
		t.Fatal(err)
	}
	if err := bucket.Delete(ctx, streams.KeyToken(k)); err != nil {
		t.Fatal(err)
	}
	// An UpdateFunc's next means nothing when it reports no change.
	unchanged := func(sellable.Key, sellable.Position) (sellable.Position, bool) {
		return sellable.Position{Count: 99}, false
	}
	if _, err := w.Update(ctx, []sellable.Key{k}, unchanged); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, k.LocationID, k.SKU)
	if err != nil || got.Count != 7 || got.Seq != 3 {
		t.Fatalf("after a replay over the marker: %+v, %v; want the rebuilt count 7 seq 3", got, err)
	}
}

// The cache never holds more keys than its bound, and keys it forgot
// still write correctly, even when another writer moved them meanwhile.
func TestWriterCacheIsBoundedAndEvictedKeysWriteCorrectly(t *testing.T) {
	s, store := openStore(t)
	ctx := context.Background()
	const bound, n, rounds = 3, 12, 6
	var keys []sellable.Key
	for i := 0; len(keys) < n; i++ {
		k := sellable.Key{LocationID: "L", SKU: fmt.Sprint("k", i)}
		if streams.Partition(k, store.Partitions()) == 0 {
			keys = append(keys, k)
		}
	}
	w := store.Writer(s.JS, 0, kv.WithCacheKeys(bound))
	other := store.Writer(s.JS, 0, kv.WithCacheKeys(0))
	want := map[sellable.Key]int64{}
	for r := range rounds {
		for i := 0; i < n; i += 4 {
			batch := keys[i : i+4]
			if _, err := w.Update(ctx, batch, add(1)); err != nil {
				t.Fatal(err)
			}
			for _, k := range batch {
				want[k]++
			}
			if c := w.CachedKeys(); c > bound {
				t.Fatalf("round %d: %d keys cached, bound %d", r, c, bound)
			}
		}
		// Another writer moves some keys on, evicted or not: the cached
		// ones conflict and re-read, the evicted ones read afresh.
		moved := keys[r%n : r%n+1]
		if _, err := other.Update(ctx, moved, add(10)); err != nil {
			t.Fatal(err)
		}
		want[moved[0]] += 10
		if c := other.CachedKeys(); c != 0 {
			t.Fatalf("a writer bounded to 0 keys caches %d", c)
		}
	}
	for _, k := range keys {
		got, err := store.Get(ctx, k.LocationID, k.SKU)
		if err != nil {
			t.Fatal(err)
		}
		if got.OnHand != want[k] {
			t.Fatalf("%v: adjusted %d, want %d", k, got.OnHand, want[k])
		}
	}
}
