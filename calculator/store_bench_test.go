package calculator

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// What storing each change costs (issue 15.2, BENCHMARKS.md "Store each
// change once"): every change is one compare-and-set write to the view
// bucket, which republishes it to inventory.sellable.> for live
// subscribers. These benchmarks price the republish.

// cpuTime is the process's user+system CPU time; the embedded server runs
// in the same process, so it counts the server's work too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSecondStore is BenchmarkProcess over a bucket as the view has
// it, republishing every put ("kv+republish": nobody listens; "+sub":
// one live core subscriber on inventory.sellable.>), and over a bucket
// configured without RePublish ("kv": the write alone). The name stays
// that of the benchmark that priced SELLABLE, the second store it
// replaced (BENCHMARKS.md). cpu-ns/change is client and server CPU per
// value written; batch=1 makes every event a change.
func BenchmarkSecondStore(b *testing.B) {
	w := benchWires(b)[0] // JSON, as events published by hand or by the load tool
	for _, n := range []int{1, 100} {
		for _, stores := range []string{"kv+republish", "kv+republish+sub", "kv"} {
			b.Run(fmt.Sprintf("%s/batch=%d/%s", w.name, n, stores), func(b *testing.B) {
				p := benchPartition(b, w)
				got := func() int64 { return -1 }
				switch stores {
				case "kv":
					noRepublish(b, p.js)
				case "kv+republish+sub":
					got = subscribe(b, p.js)
				}
				batch := storedBatch(b, w, benchEvents(n, 100))
				ctx := context.Background()
				seq := uint64(0)
				changes := 0
				b.ReportAllocs()
				b.ResetTimer()
				cpu := cpuTime()
				for i := 0; i < b.N; i += n {
					part := batch[:min(n, b.N-i)]
					for _, m := range part {
						seq++
						m.(*storedMsg).meta.Sequence.Stream = seq
					}
					f, err := p.process(ctx, part)
					if err != nil {
						b.Fatal(err)
					}
					if err := waitAcks(ctx, f.acks); err != nil {
						b.Fatal(err)
					}
					changes += distinctKeys(part)
				}
				used := cpuTime() - cpu
				if stores == "kv+republish+sub" {
					waitFor(b, 10*time.Second, func() bool { return got() >= int64(changes) })
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(used.Nanoseconds())/float64(changes), "cpu-ns/change")
			})
		}
	}
}

// noRepublish configures partition 0's bucket without its RePublish.
func noRepublish(b *testing.B, js jetstream.JetStream) {
	b.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, kv.StreamName(0))
	if err != nil {
		b.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if cfg.RePublish == nil {
		b.Fatal("the view bucket does not republish")
	}
	cfg.RePublish = nil
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		b.Fatal(err)
	}
}

// subscribe holds one live core subscription to every republished change.
func subscribe(b *testing.B, js jetstream.JetStream) (received func() int64) {
	b.Helper()
	var n atomic.Int64
	sub, err := js.Conn().Subscribe(streams.SellableFilter, func(*nats.Msg) { n.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	if err := js.Conn().Flush(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sub.Unsubscribe() })
	return n.Load
}

// distinctKeys is how many values process writes for ms: one per key,
// whatever the kinds of its events.
func distinctKeys(ms []jetstream.Msg) int {
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		// inventory.<kind>.<partition>.<loc>.<sku>: drop root and kind.
		_, rest, _ := strings.Cut(m.Subject(), ".")
		_, rest, _ = strings.Cut(rest, ".")
		seen[rest] = true
	}
	return len(seen)
}

// BenchmarkChangeFootprint stores b.N values of b.N distinct positions
// in a view bucket and reports what the server keeps: bytes stored per
// position, and heap per position (the per-subject index). Run with
// -benchtime=100000x: one op is one position. (It also measured the
// retired SELLABLE stream's changes, with and without a Nats-Msg-Id:
// BENCHMARKS.md "Store each change once".)
// cacheExpiry outlasts the file store's block cache.
const cacheExpiry = 6 * time.Second

func BenchmarkChangeFootprint(b *testing.B) {
	s := stacktest.Start(b, 1)
	ctx := context.Background()
	st, err := s.JS.Stream(ctx, kv.StreamName(0))
	if err != nil {
		b.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	before := heap()
	b.ResetTimer()
	acks := make([]jetstream.PubAckFuture, 0, 1024)
	flush := func() {
		if err := waitAcks(ctx, acks); err != nil {
			b.Fatal(err)
		}
		acks = acks[:0]
	}
	for i := range b.N {
		pos := sellable.Position{LocationID: fmt.Sprintf("L%d", i%10), SKU: fmt.Sprintf("sku-%07d", i),
			Count: 7, OnHand: 9, Reserved: 2, Seq: uint64(i + 1), UpdatedAt: time.Now().UTC()}
		data, err := kv.EncodeValue(pos)
		if err != nil {
			b.Fatal(err)
		}
		m := &nats.Msg{Subject: kv.Subject(0, sellable.Key{LocationID: pos.LocationID, SKU: pos.SKU}), Data: data}
		f, err := s.JS.PublishMsgAsync(m)
		if err != nil {
			b.Fatal(err)
		}
		if acks = append(acks, f); len(acks) == cap(acks) {
			flush()
		}
	}
	flush()
	b.StopTimer()
	// The file store drops a block's cache a few seconds after its last
	// use; what stays is the per-subject index.
	time.Sleep(cacheExpiry)
	after := heap()
	info, err := st.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(info.State.Bytes)/float64(b.N), "stored-B/key")
	b.ReportMetric((float64(after)-float64(before))/float64(b.N), "heap-B/key")
	runtime.KeepAlive(st)
}
