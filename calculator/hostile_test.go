package calculator_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/hostile"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Issue 9's attacks on the calculator through the registry, as an
// attacker would run them: evolve the adjustment schema with a hostile
// field, publish one Avro message with it, then a good event on the same
// key. The registry refuses the schemas out of bounds under the event
// subject; registered under another subject (ids are global) and used
// anyway, each message is dead-lettered with the reason, the partition
// applies the next good event, and this process (which runs the
// calculator) stays alive with its heap bounded. On the code before the
// bounds, "recursive" kills the test binary (fatal error: stack
// overflow), "zero-width-count" and "long-count" spin forever so the good
// event is never applied, and "tree-bomb" and "union-deep" decode (after
// hundreds of megabytes) and are applied instead of dead-lettered.
func TestHostileWriterSchemasAreDeadLettered(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	store := e.Registry(t)
	reg := registry.Local{Store: store}
	events, err := wire.NewAvroEvents(ctx, reg, wire.AvroConfig{})
	if err != nil {
		t.Fatal(err)
	}
	e.startCalculatorWith(t, "c1", wire.NewCodecs(events), slog.New(slog.DiscardHandler))
	dlq, err := e.JS.Stream(ctx, streams.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	for _, a := range hostile.Attacks() {
		t.Run(a.Name, func(t *testing.T) {
			schema, err := a.Schema(wire.Schemas()[wire.SubjectAdjustments])
			if err != nil {
				t.Fatal(err)
			}
			id, err := reg.Register(ctx, wire.SubjectAdjustments, schema)
			if !a.InBounds {
				if !errors.Is(err, wire.ErrSchemaRejected) || !strings.Contains(err.Error(), a.Problem) {
					t.Fatalf("register under %s = %v, want a refusal naming %q", wire.SubjectAdjustments, err, a.Problem)
				}
				id, err = reg.Register(ctx, "hostile."+a.Name+"-value", schema)
			}
			if err != nil {
				t.Fatal(err)
			}
			k := sellable.Key{LocationID: "STL", SKU: "hostile-" + a.Name}
			msg := nats.NewMsg(streams.EventSubject(sellable.Adjustment, k))
			msg.Data = hostile.Wire(id, hostile.Body(k.LocationID, k.SKU, 1000, a.Value))
			msg.Header.Set(streams.HeaderContentType, wire.ContentTypeAvro)
			bad, err := e.JS.PublishMsg(ctx, msg)
			if err != nil {
				t.Fatal(err)
			}
			seq := e.record(t, sellable.Adjustment, k.LocationID, k.SKU, 7)
			e.wantPosition(t, k.LocationID, k.SKU, 7, seq)

			dl := deadLetterOf(t, dlq, bad.Sequence)
			if reason := dl.Header.Get(streams.HeaderError); !strings.Contains(reason, a.Problem) {
				t.Fatalf("dead letter reason %q does not name %q", reason, a.Problem)
			}
		})
	}

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	// Each attack alone cost 90 MB to 350 MB before the bounds; what is
	// left is the server's copies of the 1 MB message.
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 64<<20 {
		t.Fatalf("heap grew by %d MB over the attacks", grew>>20)
	}
}

// deadLetterOf waits for the dead letter of the event with stream
// sequence seq.
func deadLetterOf(t *testing.T, dlq jetstream.Stream, seq uint64) *jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	var found *jetstream.RawStreamMsg
	poll.Until(t, 10*time.Second, fmt.Sprintf("dead letter of event %d", seq), func() error {
		info, err := dlq.Info(ctx)
		if err != nil {
			return err
		}
		for dseq := info.State.FirstSeq; info.State.Msgs > 0 && dseq <= info.State.LastSeq; dseq++ {
			m, err := dlq.GetMsg(ctx, dseq)
			if err != nil {
				return err
			}
			if m.Header.Get(streams.HeaderOrigSeq) == fmt.Sprint(seq) {
				found = m
				return nil
			}
		}
		return fmt.Errorf("not among %d dead letters", info.State.Msgs)
	})
	return found
}
