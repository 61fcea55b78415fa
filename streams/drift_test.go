package streams_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

func eventStream(t *testing.T, js jetstream.JetStream) jetstream.StreamConfig {
	t.Helper()
	s, err := js.Stream(context.Background(), streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().Config
}

// One process started with other settings (the default replicas, another
// duplicates window, other limits) must not change the stream the others
// rely on: it runs with what exists and says so. Apply changes it.
func TestEnsureNeverChangesAnExistingStream(t *testing.T) {
	s := natstest.Start(t)
	ctx := context.Background()
	first := streams.DefaultConfig()
	first.Duplicates, first.MaxBytes = 2*time.Minute, 1<<30
	if err := streams.Ensure(ctx, s.JS, first); err != nil {
		t.Fatal(err)
	}

	logs := logtest.New()
	second := streams.DefaultConfig()
	second.Duplicates, second.MaxBytes, second.MaxAge = 10*time.Minute, 2<<30, 48*time.Hour
	second.Replicas = 3 // a single server cannot have it: updating would fail
	second.Logger = logs.Logger()
	if err := streams.Ensure(ctx, s.JS, second); err != nil {
		t.Fatalf("ensure with other settings: %v, want warnings only", err)
	}
	have := eventStream(t, s.JS)
	if have.Duplicates != first.Duplicates || have.MaxBytes != first.MaxBytes || have.MaxAge != 0 || have.Replicas != 1 {
		t.Fatalf("ensure changed the stream: duplicates %v max_bytes %d max_age %v replicas %d",
			have.Duplicates, have.MaxBytes, have.MaxAge, have.Replicas)
	}
	for _, want := range []string{
		"resource=\"stream INVENTORY\" setting=duplicates existing=2m0s wanted=10m0s",
		"resource=\"stream INVENTORY\" setting=replicas existing=1 wanted=3",
		"resource=\"stream INVENTORY\" setting=max_bytes existing=1073741824 wanted=2147483648",
		"resource=\"stream INVENTORY\" setting=max_age existing=unlimited wanted=48h0m0s",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}

	second.Replicas = 1
	changed, err := streams.Apply(ctx, s.JS, second)
	if err != nil {
		t.Fatal(err)
	}
	// The dead letters and schedules keep their own fixed replay window.
	if len(changed) != 3 {
		t.Errorf("apply changed %v, want INVENTORY's duplicates, max_age and max_bytes", changed)
	}
	have = eventStream(t, s.JS)
	if have.Duplicates != second.Duplicates || have.MaxBytes != second.MaxBytes || have.MaxAge != second.MaxAge {
		t.Fatalf("apply left duplicates %v max_bytes %d max_age %v", have.Duplicates, have.MaxBytes, have.MaxAge)
	}
	if cs, err := streams.Plan(ctx, s.JS, second); err != nil || len(cs) != 0 {
		t.Fatalf("plan after apply: %v, %v; want no change", cs, err)
	}
}

// A partition count is refused, by a start and by apply alike, with a
// message that names the setting and both values.
func TestPartitionCountIsRefusedWithBothValues(t *testing.T) {
	s := stacktest.Start(t, 0)
	ctx := context.Background()
	cfg := s.Streams
	cfg.Partitions = 16
	err := streams.Ensure(ctx, s.JS, cfg)
	if !errors.Is(err, streams.ErrPartitionCount) || !strings.Contains(err.Error(), "stream INVENTORY partitions: existing 8, wanted 16") {
		t.Fatalf("ensure with 16 partitions: %v", err)
	}
	if _, err := streams.Apply(ctx, s.JS, cfg); !errors.Is(err, streams.ErrPartitionCount) {
		t.Fatalf("apply with 16 partitions: %v, want ErrPartitionCount", err)
	}
	if n, _ := streams.Partitions(ctx, s.JS); n != 8 {
		t.Fatalf("partitions now %d, want 8 unchanged", n)
	}
}

// The event log is what the view is rebuilt from: when it reaches
// MaxBytes it refuses new events and keeps every stored one.
func TestFullEventStreamRefusesNewEventsAndKeepsOld(t *testing.T) {
	s := natstest.Start(t)
	ctx := context.Background()
	cfg := streams.DefaultConfig()
	cfg.MaxBytes = 4 << 10
	if err := streams.Ensure(ctx, s.JS, cfg); err != nil {
		t.Fatal(err)
	}
	subject := streams.EventSubject(sellable.Adjustment, sellable.Key{LocationID: "STL", SKU: "1"})
	var refused error
	for i := 0; i < 1000 && refused == nil; i++ {
		_, refused = s.JS.Publish(ctx, subject, bytes.Repeat([]byte("x"), 100))
	}
	if refused == nil {
		t.Fatal("a stream of 4 KiB took 100 KB")
	}
	st, err := s.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetMsg(ctx, 1); err != nil {
		t.Fatalf("first event gone after the stream filled up: %v", err)
	}
}

// A deployment made by the seed (two event subjects, no atomic publish)
// gets this version's subjects and atomic publish from Ensure, keeps
// every stored event, and a stream with a subject this version lacks is
// still refused.
func TestEnsureUpgradesSeedStreamWithoutLoss(t *testing.T) {
	s := natstest.Start(t)
	ctx := context.Background()
	cfg := streams.DefaultConfig()
	seed := streams.EventStreamConfig(cfg)
	seed.Subjects = []string{streams.EventSubjectFilter(sellable.Adjustment), streams.EventSubjectFilter(sellable.Reservation)}
	seed.AllowAtomicPublish = false
	if _, err := s.JS.CreateStream(ctx, seed); err != nil {
		t.Fatal(err)
	}
	k := sellable.Key{LocationID: "STL", SKU: "1"}
	if _, err := s.JS.Publish(ctx, streams.EventSubject(sellable.Adjustment, k), []byte(`{"count":5}`)); err != nil {
		t.Fatal(err)
	}
	if err := streams.Ensure(ctx, s.JS, cfg); err != nil {
		t.Fatal(err)
	}
	st, err := s.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Config.AllowAtomicPublish || len(info.Config.Subjects) != len(streams.EventStreamConfig(cfg).Subjects) {
		t.Fatalf("after ensure: atomic %v, subjects %v", info.Config.AllowAtomicPublish, info.Config.Subjects)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("after ensure: %d events, want the 1 stored before", info.State.Msgs)
	}
	if _, err := s.JS.Publish(ctx, streams.EventSubject(sellable.Hold, k), []byte(`{"count":1,"reservationId":"r"}`)); err != nil {
		t.Fatalf("publish on a new subject: %v", err)
	}

	// A subject the stream has and this version lacks is refused.
	extra := info.Config
	extra.Subjects = append(extra.Subjects, "inventory.other.*.*")
	if _, err := s.JS.UpdateStream(ctx, extra); err != nil {
		t.Fatal(err)
	}
	if err := streams.Ensure(ctx, s.JS, cfg); !errors.Is(err, streams.ErrSubjects) {
		t.Fatalf("ensure over an extra subject: %v, want ErrSubjects", err)
	}
}
