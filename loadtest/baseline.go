package loadtest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// roundTrips is the number of synchronous publishes timed by the baseline.
const roundTrips = 1000

// baseline measures what the server itself can do for this machine: raw
// async publish throughput to a throwaway file-storage stream, with
// subjects and bodies shaped like events (same keys, same JSON), and the
// round trip of one synchronous publish. The stream lives outside
// inventory.> and is deleted afterwards.
func (t *target) baseline(ctx context.Context, cfg Config, progress io.Writer) (Section, error) {
	id := strings.ToLower(nuid.Next())
	name := "LOADTEST_BASELINE_" + strings.ToUpper(id)
	root := "loadtest_baseline_" + id
	sec := Section{Mode: ModeBaseline, Settings: fmt.Sprintf("events=%d keys=%d skew=%g window=%d stream=%s (file, deleted after)",
		cfg.Events, cfg.Keys, cfg.Skew, cfg.Window, name)}
	if _, err := t.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:     name,
		Subjects: []string{root + ".>"},
		Storage:  jetstream.FileStorage,
		Replicas: 1,
	}); err != nil {
		return sec, fmt.Errorf("loadtest: create %s: %w", name, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = t.js.DeleteStream(dctx, name)
	}()

	ks := newKeySet(cfg.Prefix, cfg.Keys)
	gen := generatorFor(cfg, cfg.Seed)
	subject := func(ev event) string {
		// inventory.<kind>s.<loc>.<sku> under another root.
		return root + strings.TrimPrefix(streams.EventSubject(ev.kind, ks.keys[ev.key]), "inventory")
	}
	body := func(ev event) []byte {
		data, _ := wire.JSON{}.EncodeEvent(sellable.Event{Kind: ev.kind, Key: ks.keys[ev.key], Count: ev.count})
		return data
	}

	b := newBar(progress, int64(cfg.Events), "baseline publish", "msg")
	flights := make(chan jetstream.PubAckFuture, cfg.Window)
	readErr := make(chan error, 1)
	var lastAck time.Time
	acked, size := 0, 0
	go func() {
		var first error
		for f := range flights {
			select {
			case <-f.Ok():
				acked++
				lastAck = time.Now()
			case err := <-f.Err():
				if first == nil {
					first = err
				}
			case <-ctx.Done():
				for range flights {
				}
				readErr <- ctx.Err()
				return
			}
			b.add(1)
		}
		readErr <- first
	}()
	start := time.Now()
	var pubErr error
	for range cfg.Events {
		ev := gen.next()
		data := body(ev)
		size += len(data)
		f, err := t.js.PublishAsync(subject(ev), data)
		if err != nil {
			pubErr = err
			break
		}
		select {
		case flights <- f:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(flights)
	err := <-readErr
	b.finish()
	if pubErr != nil || err != nil {
		return sec, fmt.Errorf("loadtest: baseline publish: %w", firstNonNil(pubErr, err))
	}

	var rtt latencies
	for range roundTrips {
		ev := gen.next()
		t0 := time.Now()
		if _, err := t.js.Publish(ctx, subject(ev), body(ev)); err != nil {
			return sec, fmt.Errorf("loadtest: baseline round trip: %w", err)
		}
		rtt.add(time.Since(t0))
	}
	r := rtt.summary()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	sec.rate(baselineRate, rate(acked, lastAck.Sub(start)))
	sec.count("messages acked", acked)
	sec.add("mean message size", float64(size)/float64(max(cfg.Events, 1)), Bytes)
	sec.add(baselineRTT, ms(r.P50), Millis)
	sec.add("publish round trip p99", ms(r.P99), Millis)
	return sec, nil
}

func firstNonNil(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
