package calculator_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

const partitions = 4

// env is the system the calculator tests run on; store and cmds name its
// view and command service as the tests read them.
type env struct {
	*systemtest.System
	store *kv.Store
	cmds  *command.Service
}

func setup(t *testing.T) *env {
	t.Helper()
	return setupPartitions(t, partitions)
}

// setupPartitions is setup with an event stream of n partitions.
func setupPartitions(t *testing.T, partitions int) *env {
	t.Helper()
	sys := systemtest.Start(t, systemtest.Config{Partitions: partitions})
	return &env{System: sys, store: sys.View, cmds: sys.Commands}
}

// startCalculator runs an instance until the test ends or stop is called.
func (e *env) startCalculator(t *testing.T, name string) (c *calculator.Calculator, stop func()) {
	t.Helper()
	return e.startCalculatorWith(t, name, wire.NewCodecs(), slog.New(slog.DiscardHandler))
}

// startCalculatorWith is startCalculator reading events with codecs and
// logging to log.
func (e *env) startCalculatorWith(t *testing.T, name string, codecs *wire.Codecs, log *slog.Logger) (c *calculator.Calculator, stop func()) {
	t.Helper()
	return e.startCalculatorConfig(t, name, codecs, log, func(*calculator.Config) {})
}

// startCalculatorConfig is startCalculatorWith with settings changed by
// tune.
func (e *env) startCalculatorConfig(t *testing.T, name string, codecs *wire.Codecs, log *slog.Logger, tune func(*calculator.Config)) (c *calculator.Calculator, stop func()) {
	t.Helper()
	return e.StartCalculator(t, codecs, func(cfg *calculator.Config) {
		cfg.InstanceID = name
		cfg.LeaseTTL = time.Second
		cfg.Logger = log
		tune(cfg)
	})
}

func (e *env) record(t *testing.T, kind sellable.Kind, loc, sku string, n int64) uint64 {
	t.Helper()
	rc, err := e.cmds.Record(context.Background(), sellable.Command{Kind: kind, LocationID: loc, SKU: sku, Count: n})
	if err != nil {
		t.Fatal(err)
	}
	return rc.Seq
}

func (e *env) wantPosition(t *testing.T, loc, sku string, count int64, seq uint64) {
	t.Helper()
	poll.Until(t, 10*time.Second, loc+"/"+sku, func() error {
		p, err := e.store.Get(context.Background(), loc, sku)
		if err != nil {
			return err
		}
		if p.Count != count || p.Seq != seq {
			return fmt.Errorf("have count %d seq %d, want %d seq %d", p.Count, p.Seq, count, seq)
		}
		return nil
	})
}

func TestFoldsAdjustmentsAndReservations(t *testing.T) {
	e := setup(t)
	e.startCalculator(t, "c1")
	e.record(t, sellable.Adjustment, "STL", "123123", 100)
	seq := e.record(t, sellable.Reservation, "STL", "123123", 10)
	e.wantPosition(t, "STL", "123123", 90, seq)
	seq = e.record(t, sellable.Adjustment, "STL", "123123", 100)
	e.wantPosition(t, "STL", "123123", 190, seq)
}

// Replaying the whole stream, as after a lost checkpoint, changes nothing.
func TestReplayFromScratchAppliesNothingTwice(t *testing.T) {
	e := setup(t)
	_, stop := e.startCalculator(t, "c1")
	var last uint64
	for i := 0; i < 50; i++ {
		e.record(t, sellable.Adjustment, "STL", fmt.Sprint(i%5), 3)
		last = e.record(t, sellable.Reservation, "STL", fmt.Sprint(i%5), 1)
	}
	e.wantPosition(t, "STL", "4", 20, last)
	stop()

	offsets, err := e.JS.Stream(context.Background(), "KV_calculator_offsets")
	if err != nil {
		t.Fatal(err)
	}
	if err := offsets.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.startCalculator(t, "c2")
	last = e.record(t, sellable.Adjustment, "STL", "4", 1)
	e.wantPosition(t, "STL", "4", 21, last)
	for i := 0; i < 4; i++ {
		p, err := e.store.Get(context.Background(), "STL", fmt.Sprint(i))
		if err != nil || p.Count != 20 {
			t.Fatalf("sku %d after replay: %+v, %v; want count 20", i, p, err)
		}
	}
}

// Garbage published straight onto a subject is dead-lettered with the
// reason and does not block the next valid event of the same key.
func TestGarbageIsDeadLetteredAndPartitionGoesOn(t *testing.T) {
	e := setup(t)
	e.startCalculator(t, "c1")
	ctx := context.Background()
	k := sellable.Key{LocationID: "STL", SKU: "poison"}
	bad := []string{`not json`, `{"count":"ten"}`, `{"count":0}`, `{"locationId":"OTHER","count":1}`, `{}`, `{"count":1.5}`}
	for _, body := range bad {
		if _, err := e.JS.Publish(ctx, streams.EventSubject(sellable.Adjustment, k), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	// A token that is not a canonical encoding would put the key in
	// another partition; it must be refused too.
	if _, err := e.JS.Publish(ctx, "inventory.adjustments.=53TL.poison", []byte(`{"count":1}`)); err != nil {
		t.Fatal(err)
	}
	seq := e.record(t, sellable.Adjustment, "STL", "poison", 7)
	e.wantPosition(t, "STL", "poison", 7, seq)

	dlq, err := e.JS.Stream(ctx, streams.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "dead letters", func() error {
		info, err := dlq.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != uint64(len(bad)+1) {
			return fmt.Errorf("%d dead letters, want %d", info.State.Msgs, len(bad)+1)
		}
		return nil
	})
	for seq := uint64(1); seq <= uint64(len(bad)+1); seq++ {
		m, err := dlq.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(streams.HeaderError) == "" || m.Header.Get(streams.HeaderOrigSeq) == "" {
			t.Fatalf("dead letter %d lacks reason headers: %v", seq, m.Header)
		}
	}
}

// A change reaches inventory.sellable.<loc>.<sku> as the view bucket's
// value, republished by the server with its stream's headers, and is not
// stored anywhere else: SELLABLE is not created.
func TestChangesAreTheViewsRepublishedValues(t *testing.T) {
	e := setup(t)
	live := e.liveChanges(t)
	e.startCalculator(t, "c1")
	e.record(t, sellable.Adjustment, "STL", "ch", 5)
	seq := e.record(t, sellable.Reservation, "STL", "ch", 2)
	waitLive(t, live, "STL", "ch", seq)
	k := sellable.Key{LocationID: "STL", SKU: "ch"}
	c := live()[len(live())-1]
	if c.subject != streams.SellableSubject(k) || c.pos.Count != 3 || c.pos.Seq != seq || c.pos.LocationID != "STL" || c.pos.SKU != "ch" {
		t.Fatalf("live change %+v, want count 3 seq %d on %s", c, seq, streams.SellableSubject(k))
	}
	if want := kv.StreamName(streams.Partition(k, partitions)); c.stream != want {
		t.Fatalf("Nats-Stream %q, want %q", c.stream, want)
	}
	if _, err := e.JS.Stream(context.Background(), streams.SellableStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("stream %s: %v, want not found (retired)", streams.SellableStream, err)
	}
}

// Instances split the partitions between them, and when one goes the
// other takes its share over; counts stay exact throughout.
func TestInstancesSharePartitionsAndTakeOver(t *testing.T) {
	e := setup(t)
	c1, _ := e.startCalculator(t, "c1")
	c2, stop2 := e.startCalculator(t, "c2")
	poll.Until(t, 10*time.Second, "balanced ownership", func() error {
		o1, o2 := c1.Owned(), c2.Owned()
		if len(o1) != partitions/2 || len(o2) != partitions/2 {
			return fmt.Errorf("c1 owns %v, c2 owns %v", o1, o2)
		}
		return nil
	})
	want := map[string]int64{}
	var seqs = map[string]uint64{}
	publish := func(n int) {
		for i := 0; i < n; i++ {
			sku := fmt.Sprint(rand.IntN(16))
			seqs[sku] = e.record(t, sellable.Adjustment, "L", sku, 2)
			want[sku] += 2
		}
	}
	publish(200)
	stop2()
	publish(200)
	poll.Until(t, 10*time.Second, "takeover", func() error {
		if o := c1.Owned(); len(o) != partitions {
			return fmt.Errorf("c1 owns %v", o)
		}
		return nil
	})
	for sku, n := range want {
		e.wantPosition(t, "L", sku, n, seqs[sku])
	}
}

func TestNewRejectsMismatchedStore(t *testing.T) {
	e := setup(t)
	cfg := calculator.DefaultConfig()
	cfg.Partitions = partitions + 1
	if _, err := calculator.New(context.Background(), calculator.JSONDeps(e.JS, e.store), cfg); err == nil {
		t.Fatal("New accepted a store with another partition count")
	}
}

// A nil change codec used to mean JSON; now every dependency is required,
// each missing one named at once, and JSON is chosen by name (JSONDeps).
func TestNewRequiresEveryDependency(t *testing.T) {
	cfg := calculator.DefaultConfig()
	cfg.Partitions = partitions
	_, err := calculator.New(context.Background(), calculator.Deps{}, cfg)
	for _, want := range []string{"jetstream", "store", "event codecs"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New without dependencies: error %v does not name %q", err, want)
		}
	}
}

// An operator who deletes or purges a view key (`nats kv del sellable_p3
// …`) says its value is wrong: the next event of that key must rebuild it
// from the whole event log, and the partition must go on with its other
// keys instead of restarting on compare-and-set conflicts.
func TestDeletedViewKeyIsRebuiltFromTheLog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove func(ctx context.Context, b jetstream.KeyValue, key string) error
	}{
		{"delete", func(ctx context.Context, b jetstream.KeyValue, key string) error { return b.Delete(ctx, key) }},
		{"purge", func(ctx context.Context, b jetstream.KeyValue, key string) error { return b.Purge(ctx, key) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			logs := logtest.New()
			e.startCalculatorWith(t, "c1", wire.NewCodecs(), slog.New(slog.NewTextHandler(logs, nil)))
			ctx := context.Background()
			k := sellable.Key{LocationID: "STL", SKU: "deleted"}
			p := streams.Partition(k, partitions)
			other := samePartition(t, k)

			// History of k over several batches, with an event the
			// partition dead-letters, which the rebuild must skip too.
			e.record(t, sellable.Adjustment, k.LocationID, k.SKU, 100)
			if _, err := e.JS.Publish(ctx, streams.EventSubject(sellable.Adjustment, k), []byte(`not json`)); err != nil {
				t.Fatal(err)
			}
			e.record(t, sellable.Reservation, k.LocationID, k.SKU, 10)
			// A cart's hold of 4, of which 3 ship: every kind of the key's
			// history is rebuilt, not only the seed's two.
			if _, err := e.JS.Publish(ctx, streams.EventSubject(sellable.Hold, k), []byte(`{"count":4,"reservationId":"r"}`)); err != nil {
				t.Fatal(err)
			}
			if _, err := e.JS.Publish(ctx, streams.EventSubject(sellable.Fulfilment, k), []byte(`{"count":3,"reservationId":"r"}`)); err != nil {
				t.Fatal(err)
			}
			seq := e.record(t, sellable.Adjustment, k.LocationID, k.SKU, 5)
			e.wantPosition(t, k.LocationID, k.SKU, 91, seq)
			seq = e.record(t, sellable.Adjustment, other.LocationID, other.SKU, 7)
			e.wantPosition(t, other.LocationID, other.SKU, 7, seq)

			bucket, err := e.JS.KeyValue(ctx, kv.BucketName(p))
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.remove(ctx, bucket, streams.KeyToken(k)); err != nil {
				t.Fatal(err)
			}
			if _, err := e.store.Get(ctx, k.LocationID, k.SKU); !errors.Is(err, sellable.ErrNotFound) {
				t.Fatalf("after %s the key reads %v, want not found", tc.name, err)
			}

			// The next event rebuilds the whole history, not just itself.
			seq = e.record(t, sellable.Reservation, k.LocationID, k.SKU, 1)
			e.wantPosition(t, k.LocationID, k.SKU, 90, seq)
			// The partition goes on with its other keys, and with k.
			seq = e.record(t, sellable.Adjustment, other.LocationID, other.SKU, 3)
			e.wantPosition(t, other.LocationID, other.SKU, 10, seq)
			seq = e.record(t, sellable.Adjustment, k.LocationID, k.SKU, 2)
			e.wantPosition(t, k.LocationID, k.SKU, 92, seq)

			got, err := e.store.Get(ctx, k.LocationID, k.SKU)
			if err != nil {
				t.Fatal(err)
			}
			if got.OnHand != 104 || got.Reserved != 12 {
				t.Fatalf("rebuilt %+v, want onHand 104 reserved 12", got)
			}
			out := logs.String()
			if strings.Contains(out, "partition stopped") {
				t.Fatalf("the partition restarted:\n%s", out)
			}
			if !strings.Contains(out, "rebuilt it from the event log") {
				t.Fatalf("no rebuild logged:\n%s", out)
			}
		})
	}
}

// samePartition finds another key in k's partition.
func samePartition(t *testing.T, k sellable.Key) sellable.Key {
	t.Helper()
	for i := 0; i < 1000; i++ {
		o := sellable.Key{LocationID: k.LocationID, SKU: fmt.Sprint("other-", i)}
		if streams.Partition(o, partitions) == streams.Partition(k, partitions) {
			return o
		}
	}
	t.Fatal("no other key in the partition")
	return sellable.Key{}
}
