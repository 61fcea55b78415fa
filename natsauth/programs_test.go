package natsauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// Each program's NATS work runs under its role with no permission
// violation, from start to a query answer: this is how the roles'
// permissions were found to be enough (and any subject a change to a
// program needs beyond them fails here). The e2e tests run the same
// programs as processes without users.
func TestProgramsRunUnderTheirRoles(t *testing.T) {
	d := secured(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	log := logtest.New().Logger()
	var all []*violations
	as := func(r natsauth.Role) jetstream.JetStream {
		_, js, v := d.connect(t, r)
		all = append(all, v)
		return js
	}

	// A person with the reader's role watching the live changes, which
	// the view buckets republish (nobody publishes them).
	rnc, _, rv := d.connect(t, natsauth.Reader)
	all = append(all, rv)
	live, err := rnc.SubscribeSync(streams.SellableSubject(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := rnc.Flush(); err != nil {
		t.Fatal(err)
	}

	// The calculator: pipeline (streams, registry, view, leases, replay
	// points, the query API's read model watching the view) and its run.
	pipe, err := app.OpenPipeline(ctx, as(natsauth.Calculator), topology, app.DefaultCalculatorSettings(), log)
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pipe.Calculator.Run(run) }()
	defer func() { stop(); <-done }()
	rmDone := make(chan error, 1)
	go func() { rmDone <- pipe.ReadModel.Run(run) }()
	defer func() { stop(); <-rmDone }()

	// The mutator: a command, then its retry (a duplicate ack, checked
	// against the stored original).
	mjs := as(natsauth.Mutator)
	if err := app.EnsureStreams(ctx, mjs, topology, log); err != nil {
		t.Fatal(err)
	}
	wire, err := app.OpenWire(ctx, mjs, topology, log)
	if err != nil {
		t.Fatal(err)
	}
	if wire.IDKey, err = app.OpenIDKey(ctx, mjs, topology, log); err != nil {
		t.Fatal(err)
	}
	cmds := app.Commands(mjs, topology, wire)
	c := sellable.Command{Kind: sellable.Adjustment, LocationID: key.LocationID, SKU: key.SKU, Count: 100, IdempotencyKey: "roles-1"}
	for range 2 {
		if _, err := cmds.Record(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	// The publisher: an event by hand, as `nats pub` sends it.
	pjs := as(natsauth.Publisher)
	if _, err := pjs.Publish(ctx, streams.EventSubject(sellable.Reservation, key), []byte(`{"count":10}`)); err != nil {
		t.Fatal(err)
	}

	// The reader: the view.
	view, err := kv.Open(ctx, as(natsauth.Reader), kv.Config{Partitions: topology.Partitions, Replicas: topology.Replicas, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "the view folding both events", func() error {
		p, err := view.Get(ctx, key.LocationID, key.SKU)
		if err != nil {
			return err
		}
		if p.Count != 90 {
			return errors.New("count not yet 90")
		}
		return nil
	})
	// The calculator's query API, from memory.
	poll.Until(t, 20*time.Second, "the read model holding the position", func() error {
		if !pipe.ReadModel.CaughtUp() {
			return errors.New("read model not caught up")
		}
		_, seq, err := pipe.ReadModel.Answer(ctx, key.LocationID, key.SKU)
		if err != nil {
			return err
		}
		if p, _ := view.Get(ctx, key.LocationID, key.SKU); seq != p.Seq {
			return errors.New("read model behind the view")
		}
		return nil
	})

	// The live change reached the reader's subscription as the view's
	// value.
	m, err := live.NextMsg(20 * time.Second)
	if err != nil {
		t.Fatalf("no live change: %v", err)
	}
	if p, err := kv.DecodeValue(m.Data); err != nil || p.LocationID != key.LocationID || p.SKU != key.SKU {
		t.Fatalf("live change %q: %+v, %v", m.Data, p, err)
	}

	// The schema registry program registers schemas.
	reg, err := app.OpenRegistry(ctx, as(natsauth.Registry), topology, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(ctx, "roles-test-value", `{"type":"record","name":"R","fields":[]}`); err != nil {
		t.Fatal(err)
	}

	// The projector: its durable consumer on the view bucket's stream
	// of the key's partition, and an ack.
	prjs := as(natsauth.Projector)
	if _, err := app.OpenWire(ctx, prjs, topology, log); err != nil {
		t.Fatal(err)
	}
	if _, err := streams.Partitions(ctx, prjs); err != nil {
		t.Fatal(err)
	}
	part := streams.Partition(key, topology.Partitions)
	cons, err := prjs.CreateOrUpdateConsumer(ctx, kv.StreamName(part), projection.ConsumerConfig("projector", part))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("projector fetched %d changes, want 1 (%v)", n, batch.Error())
	}

	for i, v := range all {
		if errs := v.list(); len(errs) > 0 {
			t.Errorf("connection %d: permission violations: %v", i, errs)
		}
	}
}
