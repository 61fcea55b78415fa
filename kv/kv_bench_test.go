package kv_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
)

var benchPosition = sellable.Position{LocationID: "STL", SKU: "123123", Count: 90, OnHand: 100, Reserved: 10,
	Seq: 123456, UpdatedAt: time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)}

// The KV value: what the writer encodes per changed key and the query
// side decodes per GET.
func BenchmarkPositionJSON(b *testing.B) {
	data, err := kv.EncodeValue(benchPosition)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := kv.EncodeValue(benchPosition); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := kv.DecodeValue(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchStore(b *testing.B) (*natstest.Server, *kv.Store) {
	b.Helper()
	s := stacktest.Start(b, 1)
	return s.Server, s.View
}

// One Writer.Update is one calculator batch: every key changed once,
// written with compare-and-set, all in flight at once. The cache is warm
// after the first round, as in steady state.
func BenchmarkWriterUpdate(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s, store := benchStore(b)
			w := store.Writer(s.JS, 0)
			keys := make([]sellable.Key, n)
			for i := range keys {
				keys[i] = sellable.Key{LocationID: "STL", SKU: fmt.Sprintf("sku-%05d", i)}
			}
			ctx := context.Background()
			if _, err := w.Update(ctx, keys, bump); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := w.Update(ctx, keys, bump); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}

// The KV API's own compare-and-set (KeyValue.Update with the revision),
// one round trip per key, for the choice documented in putPrefix: the
// Writer's pipelined publishes against it over the same keys.
func BenchmarkKeyValueUpdate(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s, _ := benchStore(b)
			ctx := context.Background()
			bucket, err := s.JS.KeyValue(ctx, kv.BucketName(0))
			if err != nil {
				b.Fatal(err)
			}
			data, err := kv.EncodeValue(benchPosition)
			if err != nil {
				b.Fatal(err)
			}
			keys := make([]string, n)
			revs := make([]uint64, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("STL.sku-%05d", i)
				if revs[i], err = bucket.Create(ctx, keys[i], data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i, k := range keys {
					if revs[i], err = bucket.Update(ctx, k, data, revs[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}

// Store.Get is the query side: one KV get and a JSON decode.
func BenchmarkStoreGet(b *testing.B) {
	s, store := benchStore(b)
	ctx := context.Background()
	k := sellable.Key{LocationID: "STL", SKU: "123123"}
	if _, err := store.Writer(s.JS, 0).Update(ctx, []sellable.Key{k}, bump); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Get(ctx, k.LocationID, k.SKU); err != nil {
			b.Fatal(err)
		}
	}
}

// bump is the benchmarks' own update: one more adjusted unit, next seq.
func bump(k sellable.Key, cur sellable.Position) (sellable.Position, bool) {
	cur.LocationID, cur.SKU = k.LocationID, k.SKU
	cur.OnHand++
	cur.Count = cur.OnHand - cur.Reserved
	cur.Seq++
	cur.UpdatedAt = time.Now().UTC()
	return cur, true
}

// What a key the writer's cache misses costs, read first or created
// blind, when the keys are new (a growing catalogue: the blind create is
// one write) and when they already exist (a warm view after a restart:
// the blind create fails, then the key is read and written). One op is
// one batch of 100 keys, as a calculator writes them; keys/s is the
// figure to compare. Each side runs on its own server.
func BenchmarkWriterMissedKeys(b *testing.B) {
	const batch = 100
	for _, c := range []struct {
		name       string
		blind, old bool
	}{
		{"new/read-first", false, false},
		{"new/create-blind", true, false},
		{"existing/read-first", false, true},
		{"existing/create-blind", true, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, store := benchStore(b)
			ctx := context.Background()
			next := 0
			keysOf := func() []sellable.Key {
				keys := make([]sellable.Key, batch)
				for i := range keys {
					keys[i] = sellable.Key{LocationID: "L", SKU: fmt.Sprint("k", next)}
					next++
				}
				return keys
			}
			var batches [][]sellable.Key
			if c.old {
				// Write the keys the benchmark will miss, with another
				// writer, so that they exist and nobody caches them.
				pre := store.Writer(s.JS, 0)
				for range 200 {
					keys := keysOf()
					if _, err := pre.Update(ctx, keys, add(1)); err != nil {
						b.Fatal(err)
					}
					batches = append(batches, keys)
				}
			}
			w := store.Writer(s.JS, 0, kv.WithCacheKeys(0))
			kv.ForceBlindCreates(w, c.blind)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				var keys []sellable.Key
				if c.old {
					keys = batches[i%len(batches)]
				} else {
					keys = keysOf()
				}
				i++
				if _, err := w.Update(ctx, keys, add(1)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(i*batch)/b.Elapsed().Seconds(), "keys/s")
			st := w.Stats()
			b.ReportMetric(float64(st.Reads)/float64(i*batch), "reads/key")
		})
	}
}
