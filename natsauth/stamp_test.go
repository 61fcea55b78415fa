package natsauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Issue 13.5 asks that events published straight onto NATS carry the NATS
// user. This records what nats-server 2.15.2 offers for it, so that a
// server upgrade that changes it fails here. The one mechanism that names
// the authenticated user to the receiver is a service import with
// `share: true`: the server sets Nats-Request-Info (a JSON ClientInfo
// with "user" and "acc") on the message as it crosses from the
// publisher's account into the inventory's, replacing whatever the
// publisher put there. A core subscriber in the inventory's account sees
// it; JetStream, though, removes that header before it stores a message
// (stream.go, processJetStreamMsg: "If we have received this message
// across an account we may have request information attached. For now
// remove."), so the stored event does not carry it: the intake relay
// (package intake) reads it as this subscriber does and stores the event
// with the user as its source (TestPublishedEventNamesItsNATSUser).
func TestNATSUserReachesSubscribersButNotTheStream(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "accounts.conf")
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`
listen: "127.0.0.1:-1"
jetstream { store_dir: %q }
accounts {
  INV: {
    jetstream: enabled
    users: [{user: inv, password: inv}]
    exports: [{service: "inventory.adjustments.>"}]
  }
  PUB: {
    users: [{user: alice, password: alice}]
    imports: [{service: {account: INV, subject: "inventory.adjustments.>"}, share: true}]
  }
}
`, filepath.Join(dir, "js"))), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	opts.NoSigs = true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	connect := func(user string) *nats.Conn {
		nc, err := nats.Connect(srv.ClientURL(), nats.UserInfo(user, user))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	inv, alice := connect("inv"), connect("alice")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js, err := jetstream.New(inv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"inventory.adjustments.>"}}); err != nil {
		t.Fatal(err)
	}
	sub, err := inv.SubscribeSync("inventory.adjustments.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Flush(); err != nil {
		t.Fatal(err)
	}

	// Alice publishes with a forged header, waiting for the stream's ack.
	msg := &nats.Msg{Subject: "inventory.adjustments.STL.1", Data: []byte(`{"count":1}`),
		Header: nats.Header{"Nats-Request-Info": []string{`{"user":"admin"}`}}}
	ack, err := alice.RequestMsgWithContext(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	var pa jetstream.PubAck
	if err := json.Unmarshal(ack.Data, &pa); err != nil || pa.Sequence != 1 {
		t.Fatalf("ack %s: %v", ack.Data, err)
	}

	// The subscriber sees the server's ClientInfo, not the forged one.
	got, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ci struct {
		User    string `json:"user"`
		Account string `json:"acc"`
	}
	if err := json.Unmarshal([]byte(got.Header.Get("Nats-Request-Info")), &ci); err != nil {
		t.Fatalf("Nats-Request-Info %q: %v", got.Header.Get("Nats-Request-Info"), err)
	}
	if ci.User != "alice" || ci.Account != "PUB" {
		t.Errorf("subscriber's Nats-Request-Info names %+v, want alice in PUB", ci)
	}

	// The stored event has lost it.
	st, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if h := stored.Header.Get("Nats-Request-Info"); h != "" {
		t.Errorf("the stored event carries Nats-Request-Info %q: JetStream now keeps it; stamp the source from it", h)
	}
}
