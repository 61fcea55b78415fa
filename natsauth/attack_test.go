package natsauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/natsembed"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// The attacks of issue 13.8, each a plain NATS client's move against
// today's main. Each is first shown to work against a server without
// users (so the test would notice if it stopped being an attack), then
// to be refused by the server for the publisher role, the role a leaked
// `nats pub` credential has, and for a client without credentials.

// attack is one move; subject is what the server must refuse.
type attack struct {
	line, what, subject string
	do                  func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) error
}

var key = sellable.Key{LocationID: "STL", SKU: "123123"}

// viewSubject is key's subject in its view bucket.
func viewSubject() string {
	return "$KV." + kv.BucketName(streams.Partition(key, topology.Partitions)) + "." + streams.KeyToken(key)
}

// put publishes data to subject as a KV write would, and waits for the
// stream's ack.
func put(subject string, data []byte, hdr nats.Header) func(ctx context.Context, _ *nats.Conn, js jetstream.JetStream) error {
	return func(ctx context.Context, _ *nats.Conn, js jetstream.JetStream) error {
		_, err := js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: data, Header: hdr})
		return err
	}
}

// api calls a JetStream API subject and fails with its error answer.
func api(subject string) func(ctx context.Context, nc *nats.Conn, _ jetstream.JetStream) error {
	return func(ctx context.Context, nc *nats.Conn, _ jetstream.JetStream) error {
		m, err := nc.RequestWithContext(ctx, subject, nil)
		if err != nil {
			return err
		}
		var r struct {
			Error *struct{ Description string } `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return err
		}
		if r.Error != nil {
			return errors.New(r.Error.Description)
		}
		return nil
	}
}

func attacks() []attack {
	view := viewSubject()
	rollup := nats.Header{"Nats-Rollup": []string{"all"}}
	purge := nats.Header{"KV-Operation": []string{"PURGE"}, "Nats-Rollup": []string{"sub"}}
	return []attack{
		{"a", "overwrite a view key with a forged count", view,
			put(view, []byte(`{"v":1,"count":1000000,"seq":1}`), nil)},
		{"b", "write a view value at sequence 2^64-1", view,
			put(view, []byte(`{"v":1,"count":1,"seq":18446744073709551615}`), nil)},
		{"c", "roll up a whole view bucket", view, put(view, nil, rollup)},
		{"d", "heartbeat a fake calculator member", "$KV.calculator_leases.members.forged",
			put("$KV.calculator_leases.members.forged", []byte("forged"), nil)},
		{"e", "move a partition's checkpoint forward", "$KV.calculator_offsets.p3",
			put("$KV.calculator_offsets.p3", []byte(strconv.FormatUint(1<<40, 10)), nil)},
		{"f", "purge INVENTORY", "$JS.API.STREAM.PURGE." + streams.EventStream,
			api("$JS.API.STREAM.PURGE." + streams.EventStream)},
		{"f", "delete INVENTORY_DLQ", "$JS.API.STREAM.DELETE." + streams.DeadLetterStream,
			api("$JS.API.STREAM.DELETE." + streams.DeadLetterStream)},
		{"g", "corrupt the registry's global config", "$KV.schema_registry.config.global",
			put("$KV.schema_registry.config.global", []byte("{not json"), nil)},
		{"g", "delete a registry key", "$KV.schema_registry.config.global",
			put("$KV.schema_registry.config.global", nil, purge)},
	}
}

func TestAttacksWorkWithoutUsers(t *testing.T) {
	d := open(t)
	for _, a := range attacks() {
		t.Run(a.line+" "+a.what, func(t *testing.T) {
			nc, js, _ := d.connect(t, natsauth.Publisher)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := a.do(ctx, nc, js); err != nil {
				t.Fatalf("the attack failed without users, so the test shows nothing: %v", err)
			}
		})
	}
}

func TestPublisherCannotAttack(t *testing.T) {
	d := secured(t)
	for _, a := range attacks() {
		t.Run(a.line+" "+a.what, func(t *testing.T) {
			nc, js, v := d.connect(t, natsauth.Publisher)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := a.do(ctx, nc, js); err == nil {
				t.Fatal("the publisher's attack succeeded")
			}
			poll.Until(t, 5*time.Second, "the server refusing "+a.subject, v.refused(a.subject))
		})
	}
	// The attacks changed nothing the admin can see.
	_, js, _ := d.connect(t, natsauth.Admin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, name := range []string{streams.EventStream, streams.DeadLetterStream} {
		if _, err := js.Stream(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
}

func TestUnauthenticatedClientIsRefused(t *testing.T) {
	d := secured(t)
	_, _, _, err := d.dial(natsauth.ClientConfig{})
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("anonymous connect: %v, want %v", err, nats.ErrAuthorization)
	}
	_, _, _, err = d.dial(natsauth.ClientConfig{User: "admin", Password: "guess"})
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("guessed password: %v, want %v", err, nats.ErrAuthorization)
	}
}

func TestReaderCannotPublish(t *testing.T) {
	d := secured(t)
	nc, js, v := d.connect(t, natsauth.Reader)
	subject := streams.EventSubject(sellable.Adjustment, key)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := put(subject, []byte(`{"count":1}`), nil)(ctx, nc, js); err == nil {
		t.Fatal("the reader published an event")
	}
	poll.Until(t, 5*time.Second, "the server refusing "+subject, v.refused(subject))
}

// Nobody forges a change: every role but the admin is refused a publish
// on inventory.sellable.>, where only the view buckets' republish (inside
// the server) puts the values they stored. A live subscriber (the
// reader) receives nothing from the attempts.
func TestNoRolePublishesChanges(t *testing.T) {
	d := secured(t)
	rnc, _, _ := d.connect(t, natsauth.Reader)
	live, err := rnc.SubscribeSync(streams.SellableFilter)
	if err != nil {
		t.Fatal(err)
	}
	if err := rnc.Flush(); err != nil {
		t.Fatal(err)
	}
	subject := streams.SellableSubject(key)
	forged := []byte(`{"v":1,"locationId":"STL","sku":"123123","count":1000000,"seq":1}`)
	for _, r := range natsauth.Roles {
		if r == natsauth.Admin {
			continue
		}
		t.Run(string(r), func(t *testing.T) {
			nc, _, v := d.connect(t, r)
			if err := nc.Publish(subject, forged); err != nil {
				t.Fatal(err)
			}
			poll.Until(t, 5*time.Second, "the server refusing "+subject, v.refused(subject))
		})
	}
	if m, err := live.NextMsg(200 * time.Millisecond); err == nil {
		t.Fatalf("a forged change reached a subscriber: %s %q", m.Subject, m.Data)
	}
}

// The embedded server refuses to be reachable from the network by anyone
// (issue 13.2) unless told so.
func TestEmbeddedServerRefusesOpenNetworkListen(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:-1", ":-1", "[::]:-1"} {
		_, err := natsembed.Start(natsembed.Config{Listen: listen, StoreDir: t.TempDir()})
		if !errors.Is(err, natsembed.ErrInsecureListen) {
			t.Errorf("listen %s without users: %v, want %v", listen, err, natsembed.ErrInsecureListen)
		}
	}
	srv, err := natsembed.Start(natsembed.Config{Listen: "0.0.0.0:-1", StoreDir: t.TempDir(), Insecure: true})
	if err != nil {
		t.Fatalf("listen 0.0.0.0 with Insecure: %v", err)
	}
	srv.Shutdown()
}

// (h): a publisher may publish events, with any header, so no permission
// stops it from setting Nats-Msg-Id. Today's main uses "req:<key>" for an
// Idempotency-Key, so an event published first under a guessed key makes
// the later HTTP command a "duplicate" that stores nothing. With the
// deployment's ID key (app.OpenIDKey, command.WithIDKey) the Nats-Msg-Id
// is an HMAC the publisher cannot compute.
func TestPublisherCannotPreemptAnIdempotencyKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sellable.Command{Kind: sellable.Adjustment, LocationID: key.LocationID, SKU: key.SKU, Count: 5, IdempotencyKey: "order-7"}
	preempt := func(t *testing.T, d deployment) uint64 {
		_, pjs, _ := d.connect(t, natsauth.Publisher)
		msg := &nats.Msg{Subject: streams.EventSubject(sellable.Adjustment, key), Data: []byte(`{"count":1}`),
			Header: nats.Header{nats.MsgIdHdr: []string{"req:" + c.IdempotencyKey}}}
		ack, err := pjs.PublishMsg(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		return ack.Sequence
	}
	t.Run("without an ID key the command is dropped", func(t *testing.T) {
		d := open(t)
		preempt(t, d)
		_, mjs, _ := d.connect(t, natsauth.Mutator)
		wire, err := app.OpenWire(ctx, mjs, topology, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := app.Commands(mjs, topology, wire).Record(ctx, c)
		if err == nil && !r.Duplicate {
			t.Fatalf("the command was stored (%+v): the attack no longer works on today's main, and this test shows nothing", r)
		}
	})
	t.Run("with the ID key the command is stored", func(t *testing.T) {
		d := secured(t)
		forged := preempt(t, d)
		_, mjs, _ := d.connect(t, natsauth.Mutator)
		wire, err := app.OpenWire(ctx, mjs, topology, nil)
		if err != nil {
			t.Fatal(err)
		}
		if wire.IDKey, err = app.OpenIDKey(ctx, mjs, topology, nil); err != nil {
			t.Fatal(err)
		}
		cmds := app.Commands(mjs, topology, wire)
		r, err := cmds.Record(ctx, c)
		if err != nil || r.Duplicate || r.Seq <= forged {
			t.Fatalf("Record = %+v, %v; want a new event after the forged one (seq %d)", r, err, forged)
		}
		// And the key still deduplicates the client's own retry.
		again, err := cmds.Record(ctx, c)
		if err != nil || !again.Duplicate || again.Seq != r.Seq {
			t.Fatalf("retry = %+v, %v; want the duplicate of seq %d", again, err, r.Seq)
		}
	})
}

// A publisher may publish events, and no subject permission looks at
// headers: what keeps it from erasing a key's history (Nats-Rollup: sub)
// or making its own events expire (Nats-TTL) is that INVENTORY allows
// neither. A stream setting that allowed them (message schedules force
// AllowRollup, see DESIGN.md) would hand those to every publisher: this
// fails first.
func TestPublisherCannotRewriteHistoryWithHeaders(t *testing.T) {
	d := secured(t)
	_, js, _ := d.connect(t, natsauth.Publisher)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subject := streams.EventSubject(sellable.Adjustment, key)
	if _, err := js.Publish(ctx, subject, []byte(`{"count":1}`)); err != nil {
		t.Fatal(err)
	}
	for name, hdr := range map[string]nats.Header{
		"roll up the key":      {"Nats-Rollup": []string{"sub"}},
		"roll up the stream":   {"Nats-Rollup": []string{"all"}},
		"expire its own event": {"Nats-TTL": []string{"1s"}},
	} {
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: []byte(`{"count":1}`), Header: hdr}); err == nil {
			t.Errorf("%s: INVENTORY stored it", name)
		}
	}
}

// A role reads only its own replies: a publisher cannot listen to the
// inboxes where the mutator reads the idempotency ID key (which would
// undo (h)), nor to those where the calculators receive the events.
func TestPublisherCannotReadOthersReplies(t *testing.T) {
	d := secured(t)
	nc, _, v := d.connect(t, natsauth.Publisher)
	for _, subject := range []string{"_INBOX.>", natsauth.InboxPrefix(natsauth.Mutator) + ".>", natsauth.InboxPrefix(natsauth.Calculator) + ".*"} {
		if _, err := nc.SubscribeSync(subject); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, 5*time.Second, "the server refusing "+subject, v.refused(subject))
	}
}
