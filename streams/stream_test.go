package streams_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

func TestServerPartitionMatchesKeyPartition(t *testing.T) {
	s := stacktest.Start(t, 0)
	ctx := context.Background()
	cfg := s.Streams
	keys := []sellable.Key{
		{LocationID: "STL", SKU: "123123"}, {LocationID: "a.b", SKU: "*"}, {LocationID: "Zürich 1", SKU: ">"}, {LocationID: "x", SKU: "y z ~%"}, {LocationID: "東京", SKU: "靴-42"},
	}
	for i := 0; i < 200; i++ {
		keys = append(keys, sellable.Key{LocationID: "loc" + string(rune('A'+i%26)), SKU: string(rune(0x100 + i))})
	}
	for _, k := range keys {
		for _, kind := range sellable.Kinds {
			ack, err := s.JS.Publish(ctx, streams.EventSubject(kind, k), []byte(`{"count":1}`))
			if err != nil {
				t.Fatal(err)
			}
			stream, _ := s.JS.Stream(ctx, streams.EventStream)
			msg, err := stream.GetMsg(ctx, ack.Sequence)
			if err != nil {
				t.Fatal(err)
			}
			gotKind, p, gotKey, err := streams.ParseStoredSubject(msg.Subject)
			if err != nil {
				t.Fatalf("stored subject %q: %v", msg.Subject, err)
			}
			if gotKind != kind || gotKey != k {
				t.Fatalf("stored %q parsed as %v %+v, want %v %+v", msg.Subject, gotKind, gotKey, kind, k)
			}
			if want := streams.Partition(k, cfg.Partitions); p != want {
				t.Fatalf("server put %+v in partition %d, streams.Partition says %d", k, p, want)
			}
			if want := streams.StoredEventSubject(kind, p, k); msg.Subject != want {
				t.Fatalf("server stored %q, StoredEventSubject says %q", msg.Subject, want)
			}
		}
	}
}

func TestEnsureIsIdempotentAndGuardsPartitionCount(t *testing.T) {
	s := natstest.Start(t)
	ctx := context.Background()
	cfg := streams.DefaultConfig()
	for i := 0; i < 2; i++ {
		if err := streams.Ensure(ctx, s.JS, cfg); err != nil {
			t.Fatalf("ensure #%d: %v", i, err)
		}
	}
	n, err := streams.Partitions(ctx, s.JS)
	if err != nil || n != cfg.Partitions {
		t.Fatalf("Partitions = %d, %v; want %d", n, err, cfg.Partitions)
	}
	cfg.Partitions = 4
	if err := streams.Ensure(ctx, s.JS, cfg); !errors.Is(err, streams.ErrPartitionCount) {
		t.Fatalf("ensure with other partition count: %v, want ErrPartitionCount", err)
	}
}
