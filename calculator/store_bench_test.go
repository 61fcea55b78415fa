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
	"github.com/sellable/inventory/wire"
)

// What the second store of each change costs (issue 15.2, BENCHMARKS.md
// "Store each change once"): every change is written to the view bucket
// and announced on SELLABLE. These benchmarks price the SELLABLE half.

// cpuTime is the process's user+system CPU time; the embedded server runs
// in the same process, so it counts the server's work too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSecondStore is BenchmarkProcess with the change publish
// ("kv+sellable", today) and without it ("kv", as if the view's own
// stream were the only store), and without it but with the bucket's
// stream republishing each put to one live core subscriber
// ("kv+republish": option b, `nats sub` fed by RePublish).
// cpu-ns/change is client and server CPU per value written; batch=1
// makes every event a change.
func BenchmarkSecondStore(b *testing.B) {
	for _, w := range benchWires(b) {
		for _, n := range []int{1, 100} {
			for _, stores := range []string{"kv+sellable", "kv", "kv+republish"} {
				b.Run(fmt.Sprintf("%s/batch=%d/%s", w.name, n, stores), func(b *testing.B) {
					p := benchPartition(b, w)
					p.unannounced = stores != "kv+sellable"
					got := func() int64 { return -1 }
					if stores == "kv+republish" {
						got = republish(b, p.js)
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
					if stores == "kv+republish" {
						waitFor(b, 10*time.Second, func() bool { return got() >= int64(changes) })
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
					b.ReportMetric(float64(used.Nanoseconds())/float64(changes), "cpu-ns/change")
				})
			}
		}
	}
}

// republish makes partition 0's bucket republish every put, as option b
// would for live subscribers, and holds one core subscription to it.
func republish(b *testing.B, js jetstream.JetStream) (received func() int64) {
	b.Helper()
	ctx := context.Background()
	name := "KV_" + kv.BucketName(0)
	st, err := js.Stream(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.RePublish = &jetstream.RePublish{Source: "$KV." + kv.BucketName(0) + ".>", Destination: "republished.>"}
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	sub, err := js.Conn().Subscribe("republished.>", func(*nats.Msg) { n.Add(1) })
	if err != nil {
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

// BenchmarkChangeFootprint stores b.N changes of b.N distinct positions
// on SELLABLE, with and without a Nats-Msg-Id on each (the change message
// of before issue 15), and reports what the server keeps: bytes stored per
// position, and heap per position (the per-subject index, and with ids
// the duplicate tracking, which lives for the stream's two-minute
// window). Run with -benchtime=100000x: one op is one position.
// "kv" stores the same positions' view values in a bucket, for scale.
// cacheExpiry outlasts the file store's block cache.
const cacheExpiry = 6 * time.Second

func BenchmarkChangeFootprint(b *testing.B) {
	for _, variant := range []string{"sellable", "sellable+msgid", "kv"} {
		b.Run(variant, func(b *testing.B) {
			s := stacktest.Start(b, 1)
			ctx := context.Background()
			stream := streams.SellableStream
			if variant == "kv" {
				stream = "KV_" + kv.BucketName(0)
			}
			st, err := s.JS.Stream(ctx, stream)
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
				var m *nats.Msg
				if variant == "kv" {
					data, err := kv.EncodeValue(pos)
					if err != nil {
						b.Fatal(err)
					}
					m = &nats.Msg{Subject: "$KV." + kv.BucketName(0) + "." + streams.KeyToken(sellable.Key{LocationID: pos.LocationID, SKU: pos.SKU}), Data: data}
				} else {
					if m, err = wire.ChangeMsg(pos); err != nil {
						b.Fatal(err)
					}
					if variant == "sellable+msgid" {
						m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("%s.%s@%d", pos.LocationID, pos.SKU, pos.Seq))
					}
				}
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
			// The file store drops a block's cache a few seconds after
			// its last use; what stays is the per-subject index (and the
			// duplicate map, for two minutes).
			time.Sleep(cacheExpiry)
			after := heap()
			info, err := st.Info(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(info.State.Bytes)/float64(b.N), "stored-B/key")
			b.ReportMetric((float64(after)-float64(before))/float64(b.N), "heap-B/key")
			runtime.KeepAlive(st)
		})
	}
}
