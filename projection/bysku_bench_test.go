package projection_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sellable/inventory/projection"
)

// fillBySKU upserts locs × skus positions, 64 at a time as the
// projector writes.
func fillBySKU(b *testing.B, s *projection.Store, locs, skus int) {
	b.Helper()
	start := time.Now()
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(64)
	for sku := range skus {
		for loc := range locs {
			g.Go(func() error {
				return s.Upsert(ctx, pos(fmt.Sprint("loc-", loc), fmt.Sprint("sku-", sku), 100, 10, uint64(1+sku*locs+loc)))
			})
		}
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d × %d = %d positions in %v", locs, skus, locs*skus, time.Since(start).Round(time.Millisecond))
}

// GET /inventory/skus/{sku} on the Scylla path: one partition of
// sellable_by_sku. Its cost is that partition's size (the SKU's
// locations), not the table's: the shape of 100 locations × 100,000
// SKUs is measured with 100 × BYSKU_SCYLLA_SKUS SKUs (1,000 by default),
// since writing 10 million rows into the test's Cassandra takes most of
// an hour and changes nothing on the read path but the partition index.
//
//	SCYLLA_HOSTS=127.0.0.1:9042 go test -run '^$' -bench BenchmarkBySKUScylla -benchtime 50x ./projection/
func BenchmarkBySKUScylla(b *testing.B) {
	skus := 1_000
	if v := os.Getenv("BYSKU_SCYLLA_SKUS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("BYSKU_SCYLLA_SKUS=%q", v)
		}
		skus = n
	}
	for _, shape := range []struct{ locs, skus int }{{10_000, 10}, {100, skus}} {
		b.Run(fmt.Sprintf("locations=%d/skus=%d", shape.locs, shape.skus), func(b *testing.B) {
			s, _ := openStore(b)
			fillBySKU(b, s, shape.locs, shape.skus)
			ctx := context.Background()
			b.Run("all", func(b *testing.B) {
				i := 0
				for b.Loop() {
					ps, err := s.BySKU(ctx, fmt.Sprint("sku-", i%shape.skus), nil)
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
					ps, err := s.BySKU(ctx, fmt.Sprint("sku-", i%shape.skus), filter)
					if err != nil || len(ps) != 10 {
						b.Fatalf("%d positions, %v", len(ps), err)
					}
					i++
				}
			})
		})
	}
}
