package projection_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/sellable/inventory/sellable"
)

// BenchmarkUpsert compares the two ways to keep the newest value per
// position: a plain write with USING TIMESTAMP <seq> (what Upsert does)
// and a lightweight transaction (UPDATE … IF seq < ?, INSERT … IF NOT
// EXISTS when absent). Each write is newer than the last, so the LWT
// applies every time: its cheapest case. Serial measures latency;
// parallel runs 64 writers, the projector's default MaxInFlight, and
// reports upserts/s.
//
//	bash scripts/cassandra.sh start
//	go test -run '^$' -bench BenchmarkUpsert -benchtime 5s ./projection/
func BenchmarkUpsert(b *testing.B) {
	s, _ := openStore(b)
	if err := s.CreateLWTTable(context.Background()); err != nil {
		b.Fatal(err)
	}
	ways := []struct {
		name   string
		upsert func(context.Context, sellable.Position) error
	}{
		{"timestamp", s.Upsert},
		{"lwt", s.UpsertLWT},
	}
	var seq atomic.Uint64
	next := func() sellable.Position {
		n := seq.Add(1)
		// 100 locations × 100 SKUs: rows exist after the first round.
		return pos(fmt.Sprint("L", n%100), fmt.Sprint("s", n/100%100), int64(n), 0, n)
	}
	for _, w := range ways {
		b.Run(w.name+"/serial", func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if err := w.upsert(ctx, next()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(w.name+"/64-writers", func(b *testing.B) {
			ctx := context.Background()
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := w.upsert(ctx, next()); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "upserts/s")
		})
	}
}
