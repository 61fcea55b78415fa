package command_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/sellable"
)

// BenchmarkRecord is Service.Record of one adjustment up to its ack, on an
// embedded server: validate, encode (Avro, as the all-in-one), publish,
// wait for the ack. "serial" is one command at a time (one round trip
// each); "parallel" has 64 callers, as many as the HTTP load runs keep in
// flight, so it shows whether their publishes share the connection or
// each wait for its own round trip.
func BenchmarkRecord(b *testing.B) {
	svc := systemtest.Start(b, systemtest.Config{Partitions: 8, Avro: true}).Commands
	ctx := context.Background()
	cmd := func(i int) sellable.Command {
		return sellable.Command{Kind: sellable.Adjustment, LocationID: "STL", SKU: skus[i%len(skus)], Count: 5}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := svc.Record(ctx, cmd(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(32) // 64 callers on 2 cores
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Record(ctx, cmd(int(n.Add(1)))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
	})
}

// skus are the benchmark's 100 keys, made once so that formatting them is
// not part of what is measured.
var skus = func() []string {
	out := make([]string, 100)
	for i := range out {
		out[i] = fmt.Sprintf("bench-%d", i)
	}
	return out
}()
