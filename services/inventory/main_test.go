package main

import (
	"testing"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/natsembed"
)

// INVENTORY_SYNC=always must reach the embedded server: without it an
// acknowledged event can sit in the page cache for up to two minutes.
func TestSyncSettingReachesEmbeddedServer(t *testing.T) {
	for _, tc := range []struct {
		env    string
		always bool
	}{{"always", true}, {"", false}, {"10s", false}} {
		t.Run("INVENTORY_SYNC="+tc.env, func(t *testing.T) {
			t.Setenv("INVENTORY_SYNC", tc.env)
			t.Setenv("INVENTORY_DATA_DIR", t.TempDir())
			t.Setenv("INVENTORY_NATS_LISTEN", "127.0.0.1:-1")
			f := app.NewFlags("inventory")
			cfg := app.EmbedFlags(f)
			if err := f.Parse(nil); err != nil {
				t.Fatal(err)
			}
			srv, err := natsembed.Start(cfg())
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown()
			if got := srv.JetStreamConfig().SyncAlways; got != tc.always {
				t.Fatalf("server SyncAlways = %v, want %v", got, tc.always)
			}
		})
	}
}
