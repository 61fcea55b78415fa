package kv_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/drift"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

func history(t *testing.T, js jetstream.JetStream, bucket string) int64 {
	t.Helper()
	b, err := js.KeyValue(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.History()
}

// A bucket another process created is used as it is, with a warning for
// each setting that differs; Apply changes it on purpose.
func TestEnsureWarnsAndApplyChangesBucket(t *testing.T) {
	s := natstest.Start(t)
	ctx := context.Background()
	cfg := kv.BucketConfig(0, kv.Config{Partitions: 1, Replicas: 1})
	if _, err := kv.Ensure(ctx, s.JS, cfg, nil); err != nil {
		t.Fatal(err)
	}

	want := cfg
	want.History, want.Replicas = 3, 3 // replicas 3 cannot even be set on one server
	logs := logtest.New()
	if _, err := kv.Ensure(ctx, s.JS, want, logs.Logger()); err != nil {
		t.Fatalf("ensure with other settings: %v, want warnings only", err)
	}
	if h := history(t, s.JS, cfg.Bucket); h != 1 {
		t.Fatalf("ensure changed history to %d", h)
	}
	for _, w := range []string{
		`resource="bucket sellable_p0" setting=history existing=1 wanted=3`,
		`resource="bucket sellable_p0" setting=replicas existing=1 wanted=3`,
	} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, logs.String())
		}
	}

	want.Replicas = 1
	changed, err := kv.Apply(ctx, s.JS, []jetstream.KeyValueConfig{want})
	if err != nil || len(changed) != 1 {
		t.Fatalf("apply: %v, %v; want one change", changed, err)
	}
	if h := history(t, s.JS, cfg.Bucket); h != 3 {
		t.Fatalf("apply left history %d, want 3", h)
	}
}

// A view bucket republishes every value it stores on the position's live
// subject, inventory.sellable.<loc>.<sku> (streams.SellableSubject, with
// identifiers encoded as in the key), the stored bytes as the payload and
// the bucket's stream and sequence in the headers: that is how a change
// reaches live subscribers, with no second publish.
func TestViewBucketRepublishesPutsOnSellableSubjects(t *testing.T) {
	s := natstest.Start(t)
	ctx := context.Background()
	b, err := kv.Ensure(ctx, s.JS, kv.BucketConfig(0, kv.Config{Partitions: 1, Replicas: 1}), nil)
	if err != nil {
		t.Fatal(err)
	}
	k := sellable.Key{LocationID: "S.T L", SKU: "a*b>c"}
	sub, err := s.NC.SubscribeSync(streams.SellableFilter)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	value, err := kv.EncodeValue(sellable.Position{LocationID: k.LocationID, SKU: k.SKU, Count: 4, OnHand: 5, Reserved: 1, Seq: 9})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := b.Put(ctx, streams.KeyToken(k), value)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != streams.SellableSubject(k) || !bytes.Equal(m.Data, value) {
		t.Fatalf("republished %s %q, want %s %q", m.Subject, m.Data, streams.SellableSubject(k), value)
	}
	if m.Header.Get(jetstream.StreamHeader) != kv.StreamName(0) || m.Header.Get(jetstream.SequenceHeader) != fmt.Sprint(rev) {
		t.Fatalf("headers %v, want stream %s sequence %d", m.Header, kv.StreamName(0), rev)
	}
	if got, err := kv.KeyOfSubject(0, kv.Subject(0, k)); err != nil || got != k {
		t.Fatalf("KeyOfSubject: %v, %v; want %v", got, err, k)
	}
	// One put, one message.
	if m, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatalf("a second message: %s %q", m.Subject, m.Data)
	}
}

// A view bucket of a version that published its changes itself has no
// RePublish: Ensure adds it, keeping every other setting, since this
// version publishes none and live subscribers would otherwise get
// nothing; what the bucket holds stays.
func TestEnsureAddsRepublishToAnOlderViewBucket(t *testing.T) {
	s := natstest.Start(t)
	ctx := context.Background()
	old := kv.BucketConfig(0, kv.Config{Partitions: 1, Replicas: 1})
	old.RePublish, old.History = nil, 2 // and an operator's own setting
	b, err := s.JS.CreateKeyValue(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "L.s", []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	want := kv.BucketConfig(0, kv.Config{Partitions: 1, Replicas: 1})
	if cs, err := kv.Plan(ctx, s.JS, []jetstream.KeyValueConfig{want}); err != nil || !hasSetting(cs, "republish") {
		t.Fatalf("plan: %v, %v; want a republish change", cs, err)
	}
	logs := logtest.New()
	if _, err := kv.Ensure(ctx, s.JS, want, logs.Logger()); err != nil {
		t.Fatal(err)
	}
	st, err := s.JS.Stream(ctx, kv.StreamName(0))
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if cfg.RePublish == nil || *cfg.RePublish != *want.RePublish {
		t.Fatalf("republish %+v after Ensure, want %+v", cfg.RePublish, want.RePublish)
	}
	if cfg.MaxMsgsPerSubject != 2 {
		t.Fatalf("history %d after Ensure, want the existing 2 kept", cfg.MaxMsgsPerSubject)
	}
	if e, err := b.Get(ctx, "L.s"); err != nil || string(e.Value()) != `{"v":1}` {
		t.Fatalf("value after Ensure: %v", err)
	}
	if !strings.Contains(logs.String(), "bucket upgraded") {
		t.Errorf("log lacks the upgrade:\n%s", logs.String())
	}
}

func hasSetting(cs []drift.Change, setting string) bool {
	for _, c := range cs {
		if c.Setting == setting {
			return true
		}
	}
	return false
}
