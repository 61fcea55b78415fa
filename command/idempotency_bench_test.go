package command_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// BenchmarkIdempotencyKeyCost is what a tracked idempotency key costs:
// b.N commands recorded on an embedded server whose duplicate window
// outlasts the run, each with a unique key ("keyed") or none ("unkeyed",
// the baseline). The server runs in this process, so the live heap after
// a GC holds its duplicate map: heap-B/cmd of keyed minus unkeyed is the
// memory per key in the window. disk-B/cmd is the stream's stored bytes
// per event; the difference is the Nats-Msg-Id and request-hash headers.
// restart-ms is how long the server then takes to start again on the same
// files: it rebuilds the duplicate map from every event in the window.
// Run with a fixed count (-benchtime 200000x): the heap figure needs
// many keys to rise above the file store's block cache.
func BenchmarkIdempotencyKeyCost(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		name := "unkeyed"
		if keyed {
			name = "keyed"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			s := natstest.StartIn(b, dir)
			ctx := context.Background()
			cfg := streams.DefaultConfig()
			cfg.Duplicates = 24 * time.Hour
			if err := streams.Ensure(ctx, s.JS, cfg); err != nil {
				b.Fatal(err)
			}
			st, err := s.JS.Stream(ctx, streams.EventStream)
			if err != nil {
				b.Fatal(err)
			}
			svc := command.NewService(s.JS, wire.JSON{}, cfg.Partitions)
			c := sellable.Command{Kind: sellable.Adjustment, LocationID: "STL", Count: 1}
			heap := func() uint64 {
				var m runtime.MemStats
				runtime.GC()
				runtime.GC()
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			before := heap()
			i := 0
			for b.Loop() {
				c.SKU = fmt.Sprintf("sku-%d", i%100)
				if keyed {
					// A realistic key: a UUID, as most clients send.
					c.IdempotencyKey = fmt.Sprintf("3f2b8c1e-9d4a-4e7b-8a6f-%012d", i)
				}
				if _, err := svc.Record(ctx, c); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.StopTimer()
			after := heap()
			info, err := st.Info(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric((float64(after)-float64(before))/float64(b.N), "heap-B/cmd")
			b.ReportMetric(float64(info.State.Bytes)/float64(b.N), "disk-B/cmd")
			s.Shutdown()
			s.WaitForShutdown()
			start := time.Now()
			natstest.StartIn(b, dir)
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "restart-ms")
		})
	}
}
