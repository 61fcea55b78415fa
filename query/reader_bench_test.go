package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/query"
	"github.com/sellable/inventory/sellable"
)

// What read-your-writes costs on the KV path, with a calculator running:
// "write-then-read" records an adjustment and reads it back at its
// sequence (the write, the calculator's fold and the wait); "write" is
// the write alone; "caught-up" reads at a sequence the view already
// reflects (one KV get, as a plain read).
//
//	go test -run '^$' -bench ReadYourWrite -benchtime 2000x ./query/
func BenchmarkReadYourWrite(b *testing.B) {
	ctx := context.Background()
	sys := systemtest.Start(b, systemtest.Config{Avro: true})
	sys.StartCalculator(b, nil, nil)
	r := query.NewReader(sys.View, query.NewEventLog(sys.JS, sys.Wire.Decoders))
	cmd := sellable.Command{Kind: sellable.Adjustment, LocationID: "bench", SKU: "ryw", Count: 1}
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			if _, err := sys.Commands.Record(ctx, cmd); err != nil {
				b.Fatal(err)
			}
		}
	})
	var last uint64
	b.Run("write-then-read", func(b *testing.B) {
		for b.Loop() {
			rc, err := sys.Commands.Record(ctx, cmd)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.GetAtLeast(ctx, cmd.LocationID, cmd.SKU, rc.Seq, 10*time.Second); err != nil {
				b.Fatal(err)
			}
			last = rc.Seq
		}
	})
	b.Run("caught-up", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.GetAtLeast(ctx, cmd.LocationID, cmd.SKU, last, time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
}
