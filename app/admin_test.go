package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/streams"
)

// A program started with other shared settings than the deployment has
// runs with what exists and warns; `inventory admin plan` shows the
// difference and changes nothing; `inventory admin apply` changes it.
func TestStartWarnsAndAdminApplyChanges(t *testing.T) {
	s := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := Topology{Partitions: 2, Replicas: 1, MaxBytes: 1 << 30}
	if _, err := OpenPipeline(ctx, s.JS, first, DefaultCalculatorSettings(), logtest.New().Logger()); err != nil {
		t.Fatal(err)
	}
	// A command API makes the deployment's idempotency key.
	if _, err := OpenIDKey(ctx, s.JS, first, logtest.New().Logger()); err != nil {
		t.Fatal(err)
	}
	// An operator changed a view bucket by hand.
	b0 := kv.BucketConfig(0, kv.Config{Partitions: 2, Replicas: 1})
	b0.History = 4
	if _, err := s.JS.UpdateKeyValue(ctx, b0); err != nil {
		t.Fatal(err)
	}

	logs := logtest.New()
	second := Topology{Partitions: 2, Replicas: 1, MaxBytes: 2 << 30, MaxAge: 48 * time.Hour}
	if _, err := OpenPipeline(ctx, s.JS, second, DefaultCalculatorSettings(), logs.Logger()); err != nil {
		t.Fatalf("start with other settings: %v, want warnings only", err)
	}
	assertEventStream(t, s.JS, 1<<30, 0)
	for _, w := range []string{
		`resource="stream INVENTORY" setting=max_bytes existing=1073741824 wanted=2147483648`,
		`resource="stream INVENTORY" setting=max_age existing=unlimited wanted=48h0m0s`,
		`resource="bucket sellable_p0" setting=history existing=4 wanted=1`,
	} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("start log lacks %q:\n%s", w, logs.String())
		}
	}

	args := []string{"--nats-url", s.ClientURL(), "--partitions", "2", "--max-bytes", "2147483648", "--max-age", "48h"}
	plan := admin(t, append([]string{"plan"}, args...)...)
	for _, w := range []string{
		"~ stream INVENTORY max_bytes: existing 1073741824, wanted 2147483648",
		"~ stream INVENTORY max_age: existing unlimited, wanted 48h0m0s",
		"~ bucket sellable_p0 history: existing 4, wanted 1",
		"3 change(s)",
	} {
		if !strings.Contains(plan, w) {
			t.Errorf("plan lacks %q:\n%s", w, plan)
		}
	}
	assertEventStream(t, s.JS, 1<<30, 0)

	if out := admin(t, append([]string{"apply"}, args...)...); !strings.Contains(out, "applied 3 change(s)") {
		t.Errorf("apply said:\n%s", out)
	}
	assertEventStream(t, s.JS, 2<<30, 48*time.Hour)
	if out := admin(t, append([]string{"plan"}, args...)...); !strings.Contains(out, "nothing to change") {
		t.Errorf("plan after apply:\n%s", out)
	}

	// A partition count is not a setting apply changes.
	err := Admin(ctx, []string{"apply", "--nats-url", s.ClientURL(), "--partitions", "4"}, &strings.Builder{}, logs.Logger())
	if err == nil || !strings.Contains(err.Error(), "partitions: existing 2, wanted 4") {
		t.Fatalf("apply with another partition count: %v", err)
	}
}

// A deployment of the version that stored each change twice (the view
// buckets without RePublish, and the stream SELLABLE) upgrades itself
// where that only adds: the buckets republish at the first start. SELLABLE
// would now capture every republished change, a second store again, so
// the programs warn while it exists, `inventory admin plan` lists its
// deletion, and `apply` deletes it (once no older program publishes into
// it: that is the operator's call, hence not done at start).
func TestUpgradeRetiresSellableStream(t *testing.T) {
	s := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topo := Topology{Partitions: 2, Replicas: 1}
	// The older version's SELLABLE and view buckets.
	if _, err := s.JS.CreateStream(ctx, jetstream.StreamConfig{Name: streams.SellableStream,
		Subjects: []string{streams.SellableFilter}, Storage: jetstream.FileStorage, MaxMsgsPerSubject: 1}); err != nil {
		t.Fatal(err)
	}
	for p := range topo.Partitions {
		old := kv.BucketConfig(p, kv.Config{Partitions: topo.Partitions, Replicas: 1})
		old.RePublish = nil
		if _, err := s.JS.CreateKeyValue(ctx, old); err != nil {
			t.Fatal(err)
		}
	}

	logs := logtest.New()
	pipe, err := OpenPipeline(ctx, s.JS, topo, DefaultCalculatorSettings(), logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "retired stream still exists") || !strings.Contains(logs.String(), "stream="+streams.SellableStream) {
		t.Errorf("start log lacks the retired stream's warning:\n%s", logs.String())
	}
	for p := range topo.Partitions {
		st, err := s.JS.Stream(ctx, kv.StreamName(p))
		if err != nil {
			t.Fatal(err)
		}
		if st.CachedInfo().Config.RePublish == nil {
			t.Fatalf("bucket %d not upgraded to republish", p)
		}
	}
	_ = pipe

	args := []string{"--nats-url", s.ClientURL(), "--partitions", "2"}
	plan := admin(t, append([]string{"plan"}, args...)...)
	if !strings.Contains(plan, "~ stream SELLABLE exists: existing yes, wanted no (retired)") {
		t.Fatalf("plan lacks the deletion of SELLABLE:\n%s", plan)
	}
	if _, err := s.JS.Stream(ctx, streams.SellableStream); err != nil {
		t.Fatalf("plan changed something: %v", err)
	}
	admin(t, append([]string{"apply"}, args...)...)
	if _, err := s.JS.Stream(ctx, streams.SellableStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("SELLABLE after apply: %v, want deleted", err)
	}
	if out := admin(t, append([]string{"plan"}, args...)...); !strings.Contains(out, "nothing to change") {
		t.Errorf("plan after apply:\n%s", out)
	}
	// And a fresh start does not create it again.
	if err := EnsureStreams(ctx, s.JS, topo, logs.Logger()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JS.Stream(ctx, streams.SellableStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("SELLABLE after a start: %v, want absent", err)
	}
}

func admin(t *testing.T, args ...string) string {
	t.Helper()
	var out strings.Builder
	if err := Admin(t.Context(), args, &out, logtest.New().Logger()); err != nil {
		t.Fatalf("admin %v: %v", args, err)
	}
	return out.String()
}

func assertEventStream(t *testing.T, js jetstream.JetStream, maxBytes int64, maxAge time.Duration) {
	t.Helper()
	st, err := js.Stream(context.Background(), streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	if c := st.CachedInfo().Config; c.MaxBytes != maxBytes || c.MaxAge != maxAge {
		t.Fatalf("INVENTORY has max_bytes %d max_age %v, want %d %v", c.MaxBytes, c.MaxAge, maxBytes, maxAge)
	}
}

// `inventory admin nats-users` writes the users once: a second run is
// refused (it would lock every running program out), or does nothing
// with --if-absent, as the compose topology runs it on every start.
func TestAdminNATSUsers(t *testing.T) {
	dir := t.TempDir()
	out := admin(t, "nats-users", "--partitions", "2", dir)
	for _, r := range natsauth.Roles {
		if !strings.Contains(out, filepath.Join(dir, natsauth.SeedFile(r))) {
			t.Errorf("output lacks %s's seed:\n%s", r, out)
		}
	}
	if !strings.Contains(out, "source nats:"+natsauth.PublisherAccount+"/U") {
		t.Errorf("output does not say which source the publisher's events get:\n%s", out)
	}
	conf, err := os.ReadFile(filepath.Join(dir, natsauth.UsersFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), `"$KV.sellable_p1.>"`) || strings.Contains(string(conf), "sellable_p2") {
		t.Errorf("users file is not for 2 partitions:\n%s", conf)
	}
	if err := Admin(t.Context(), []string{"nats-users", dir}, &strings.Builder{}, logtest.New().Logger()); err == nil {
		t.Error("a second nats-users overwrote the users")
	}
	if out := admin(t, "nats-users", "--if-absent", dir); !strings.Contains(out, "nothing to do") {
		t.Errorf("--if-absent said:\n%s", out)
	}
	again, _ := os.ReadFile(filepath.Join(dir, natsauth.UsersFile))
	if string(again) != string(conf) {
		t.Error("--if-absent changed the users")
	}
}
