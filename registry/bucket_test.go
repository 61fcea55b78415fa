package registry

import (
	"strings"
	"testing"

	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/natstest"
)

// The registry bucket is shared by every program: opening it must never
// update it (it used to create-or-update, so one process with
// INVENTORY_REPLICAS=1 downgraded a three-replica bucket).
func TestNewStoreLeavesExistingBucketAlone(t *testing.T) {
	srv := natstest.Start(t)
	ctx := testContext(t)
	other := BucketConfig(DefaultConfig())
	other.History = 5 // as an operator might have set it
	if _, err := srv.JS.CreateKeyValue(ctx, other); err != nil {
		t.Fatal(err)
	}

	cfg := DefaultConfig()
	cfg.Replicas = 3 // updating to it would fail on a single server
	logs := logtest.New()
	cfg.Logger = logs.Logger()
	if _, err := NewStore(ctx, srv.JS, cfg); err != nil {
		t.Fatalf("open with other settings: %v, want warnings only", err)
	}
	b, err := srv.JS.KeyValue(ctx, cfg.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.History() != 5 {
		t.Fatalf("history now %d, want 5 unchanged", st.History())
	}
	for _, w := range []string{"setting=history existing=5 wanted=1", "setting=replicas existing=1 wanted=3"} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, logs.String())
		}
	}
}
