package kv_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// fillView puts locs × skus positions straight into the view's buckets,
// as the calculator would have left them, with async publishes: the
// calculator's own speed is measured elsewhere, and going through it
// would make the 10-million-key shape take most of an hour.
func fillView(b *testing.B, s *stacktest.Stack, locs, skus int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	n := s.Streams.Partitions
	done := 0
	pos := sellable.Position{Count: 90, OnHand: 100, Reserved: 10, Seq: 1, UpdatedAt: start}
	for sku := range skus {
		for loc := range locs {
			k := sellable.Key{LocationID: fmt.Sprint("loc-", loc), SKU: fmt.Sprint("sku-", sku)}
			pos.LocationID, pos.SKU = k.LocationID, k.SKU
			data, err := kv.EncodeValue(pos)
			if err != nil {
				b.Fatal(err)
			}
			subject := "$KV." + kv.BucketName(streams.Partition(k, n)) + "." + streams.KeyToken(k)
			if _, err := s.JS.PublishAsync(subject, data); err != nil {
				b.Fatal(err)
			}
			// Keep the window well under the client's limit of
			// outstanding publishes, which stalls rather than waits.
			if done++; done%2000 == 0 {
				waitAcks(ctx, b, s)
			}
		}
	}
	waitAcks(ctx, b, s)
	b.Logf("filled %d × %d = %d keys in %v", locs, skus, locs*skus, time.Since(start).Round(time.Millisecond))
}

func waitAcks(ctx context.Context, b *testing.B, s *stacktest.Stack) {
	select {
	case <-s.JS.PublishAsyncComplete():
	case <-ctx.Done():
		b.Fatal(ctx.Err())
	}
}

// skusOfLargeShape is the SKU count of the second shape: 100,000 by
// default (10 million keys), BYSKU_SKUS to measure a smaller one.
func skusOfLargeShape(b *testing.B) int {
	if v := os.Getenv("BYSKU_SKUS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("BYSKU_SKUS=%q", v)
		}
		return n
	}
	return 100_000
}

// GET /inventory/skus/{sku} on the KV path: one SKU's positions over
// every partition's bucket by the key filter "*.<sku>", for the two
// shapes of issue 14.2, and with a filter of 10 locations (direct gets).
// Filling 10 million keys takes minutes, so it runs only when asked
// (`go tool task bench` skips it):
//
//	BYSKU_BENCH=1 go test -run '^$' -bench 'BySKU$' -benchtime 20x -v ./kv/
func BenchmarkBySKU(b *testing.B) {
	if os.Getenv("BYSKU_BENCH") != "1" {
		b.Skip("fills up to 10 million keys: set BYSKU_BENCH=1")
	}
	for _, shape := range []struct{ locs, skus int }{{10_000, 10}, {100, skusOfLargeShape(b)}} {
		b.Run(fmt.Sprintf("locations=%d/skus=%d", shape.locs, shape.skus), func(b *testing.B) {
			s := stacktest.Start(b, 0)
			fillView(b, s, shape.locs, shape.skus)
			ctx := context.Background()
			b.Run("all", func(b *testing.B) {
				i := 0
				for b.Loop() {
					ps, err := s.View.BySKU(ctx, fmt.Sprint("sku-", i%shape.skus), nil)
					if err != nil || len(ps) != shape.locs {
						b.Fatalf("%d positions, %v", len(ps), err)
					}
					i++
				}
			})
			filter := make([]string, 10)
			for i := range filter {
				filter[i] = fmt.Sprint("loc-", i*shape.locs/10)
			}
			b.Run("10-locations", func(b *testing.B) {
				i := 0
				for b.Loop() {
					ps, err := s.View.BySKU(ctx, fmt.Sprint("sku-", i%shape.skus), filter)
					if err != nil || len(ps) != 10 {
						b.Fatalf("%d positions, %v", len(ps), err)
					}
					i++
				}
			})
		})
	}
}
