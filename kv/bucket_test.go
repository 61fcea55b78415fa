package kv_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/kv"
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
