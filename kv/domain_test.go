package kv_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsembed"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// A deployment that reaches JetStream through a domain or an API prefix
// (a leaf node, a hub) must work as the library's KV does: the writer's
// compare-and-set publishes go where the bucket's own puts go.
func TestWriterWorksThroughAJetStreamDomain(t *testing.T) {
	srv, err := natsembed.Start(natsembed.Config{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(), Domain: "hub"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	for name, connect := range map[string]func() (jetstream.JetStream, error){
		"domain":     func() (jetstream.JetStream, error) { return jetstream.NewWithDomain(nc, "hub") },
		"api prefix": func() (jetstream.JetStream, error) { return jetstream.NewWithAPIPrefix(nc, "$JS.hub.API") },
	} {
		t.Run(name, func(t *testing.T) {
			js, err := connect()
			if err != nil {
				t.Fatal(err)
			}
			writeTwiceAndRead(t, js, name)
		})
	}
}

// The case the API prefix exists for: an account without JetStream of its
// own reaches another account's through imports under a prefix, as the
// library's own KV tests set it up. Publishing straight to $KV.<bucket>
// goes nowhere there; the bucket's puts carry the prefix.
func TestWriterWorksThroughAnAPIPrefixImport(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "server.conf")
	err := os.WriteFile(conf, []byte(`
listen: 127.0.0.1:-1
jetstream: {store_dir: "`+filepath.ToSlash(t.TempDir())+`"}
no_auth_user: a
accounts: {
  A: {
    jetstream: enabled
    users: [{user: a, password: a}]
    exports: [{service: '$JS.API.>'}, {service: '$KV.>'}, {stream: 'accI.>'}]
  }
  I: {
    users: [{user: i, password: i}]
    imports: [
      {service: {account: A, subject: '$JS.API.>'}, to: 'fromA.>'}
      {service: {account: A, subject: '$KV.>'}, to: 'fromA.$KV.>'}
      {stream: {subject: 'accI.>', account: A}}
    ]
  }
}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	opts.NoSigs, opts.NoLog = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.UserInfo("i", "i"), nats.CustomInboxPrefix("accI"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.NewWithAPIPrefix(nc, "fromA")
	if err != nil {
		t.Fatal(err)
	}
	writeTwiceAndRead(t, js, "import")
}

// writeTwiceAndRead writes one key through two writers of its partition,
// so that the second one's cached revision goes stale and the conflict
// path (re-read and retry) runs too, then reads the sum back.
func writeTwiceAndRead(t *testing.T, js jetstream.JetStream, sku string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := kv.Open(ctx, js, kv.Config{Partitions: 2, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	k := sellable.Key{LocationID: "STL", SKU: sku}
	p := streams.Partition(k, store.Partitions())
	w1, w2 := store.Writer(js, p), store.Writer(js, p)
	for i, w := range []*kv.Writer{w1, w2, w1, w2} {
		if _, err := w.Update(ctx, []sellable.Key{k}, add(5)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	pos, err := store.Get(ctx, k.LocationID, k.SKU)
	if err != nil || pos.OnHand != 20 {
		t.Fatalf("get = %+v, %v; want adjusted 20", pos, err)
	}
}
