package jsfeed_test

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/feed/jsfeed"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// BenchmarkFanOut is the feed's work per change for 100 unfiltered
// subscribers on a real embedded server with the default partition count
// (the hub reads every bucket's stream): getting each change to every
// subscriber and its SSE frame into that subscriber's write buffer (the
// reader encodes it when the source did not). One op is one change
// delivered to all 100. Changes go in rounds of 500, each read by every
// subscriber before the next, so that nobody is dropped as behind.
func BenchmarkFanOut(b *testing.B) {
	const subscribers, round = 100, 500
	s := stacktest.Start(b, 0)
	parts := s.Streams.Partitions
	cfg := jsfeed.DefaultConfig()
	cfg.Frame = api.ChangeFrame
	src, err := jsfeed.NewSource(s.JS, cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make([]chan int, subscribers)
	var wg sync.WaitGroup
	for i := range subscribers {
		sub, err := src.Subscribe(ctx, feed.Filter{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		got[i] = make(chan int, 1024)
		wg.Go(func() {
			buf := make([]feed.Change, 0, 256)
			var w bytes.Buffer
			for {
				batch, err := sub.Next(ctx, buf, time.Second)
				if err != nil {
					return
				}
				for _, ch := range batch {
					w.Write(frame(ch))
				}
				w.Reset()
				if len(batch) > 0 {
					got[i] <- len(batch)
				}
			}
		})
	}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(round, b.N-done)
		for j := range n {
			k := done + j + 1
			// A KV put is a publish to the key's subject in the bucket's
			// stream; async, as the calculator's writer does.
			key := sellable.Key{LocationID: "B", SKU: strconv.Itoa(k)}
			v, err := kv.EncodeValue(sellable.Position{LocationID: key.LocationID, SKU: key.SKU, Count: int64(k), Seq: uint64(k), UpdatedAt: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			subject := "$KV." + kv.BucketName(streams.Partition(key, parts)) + "." + streams.KeyToken(key)
			if _, err := s.JS.PublishAsync(subject, v); err != nil {
				b.Fatal(err)
			}
		}
		for i := range subscribers {
			for left := n; left > 0; {
				select {
				case c := <-got[i]:
					left -= c
				case <-time.After(30 * time.Second):
					b.Fatalf("subscriber %d: %d of %d changes (stats %+v)", i, n-left, n, src.Stats())
				}
			}
		}
		done += n
	}
	b.StopTimer()
	// The process's CPU time per op, server included: on a shared
	// machine wall time says how much CPU the run got, this what it
	// needed.
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	cancel()
	wg.Wait()
}

// frame is the bytes a reader writes for ch: the source's, or its own
// encoding as the feed's handler does without one.
func frame(ch feed.Change) []byte {
	if ch.Frame != nil {
		return ch.Frame
	}
	return api.ChangeFrame(ch)
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
