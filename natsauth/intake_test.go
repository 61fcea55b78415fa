package natsauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/sellable/inventory/intake"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Issue 13.5: an event the publisher role publishes straight onto NATS is
// stored (the publisher gets the stream's PubAck) with the NATS user as
// its source, in the header and the body, whatever source the publisher
// wrote; its Nats-Msg-Id still deduplicates.
func TestPublishedEventNamesItsNATSUser(t *testing.T) {
	d := secured(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, pjs, _ := d.connect(t, natsauth.Publisher)
	_, ajs, _ := d.connect(t, natsauth.Admin)
	seed, err := os.ReadFile(filepath.Join(d.seeds, natsauth.SeedFile(natsauth.Publisher)))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(seed))
	if err != nil {
		t.Fatal(err)
	}
	user, _ := kp.PublicKey()
	want := intake.Source(natsauth.PublisherAccount, user)

	msg := &nats.Msg{Subject: streams.EventSubject(sellable.Adjustment, key),
		Data: []byte(`{"count":7,"source":"admin","Source":"admin","ſource":"admin","reason":"received"}`),
		Header: nats.Header{
			streams.HeaderSource: []string{"admin"},
			"inventory-source":   []string{"admin"},
			"Nats-Request-Info":  []string{`{"acc":"INVENTORY","user":"admin"}`},
			nats.MsgIdHdr:        []string{"delivery-42"},
		}}
	ack, err := pjs.PublishMsg(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Stream != streams.EventStream || ack.Sequence == 0 || ack.Duplicate {
		t.Fatalf("PubAck %+v, want a new event in %s", ack, streams.EventStream)
	}
	st, err := ajs.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.GetMsg(ctx, ack.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.Header.Get(streams.HeaderSource); got != want {
		t.Errorf("stored %s = %q, want %q", streams.HeaderSource, got, want)
	}
	for k, v := range stored.Header {
		if strings.EqualFold(k, streams.HeaderSource) && (k != streams.HeaderSource || len(v) != 1) {
			t.Errorf("stored header %s = %q, want only %s: %q", k, v, streams.HeaderSource, want)
		}
	}
	var fields map[string]any
	if err := json.Unmarshal(stored.Data, &fields); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if strings.EqualFold(k, "source") && (k != "source" || v != want) {
			t.Errorf("stored body has %q: %v, want only source: %s", k, v, want)
		}
	}
	e, _, err := wire.NewCodecs().DecodeStored(ctx, stored.Subject, stored.Header, stored.Data)
	if err != nil {
		t.Fatal(err)
	}
	if e.Source != want || e.Count != 7 || e.Key != key || e.Kind != sellable.Adjustment || e.Reason != "received" {
		t.Errorf("stored event %+v, want 7 of %v from %s, reason kept", e, key, want)
	}

	// The same Nats-Msg-Id again is the same event.
	again, err := pjs.PublishMsg(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Sequence != ack.Sequence {
		t.Errorf("retry's PubAck %+v, want the duplicate of %d", again, ack.Sequence)
	}
}

// What reaches an intake subject in the inventory's account is trusted
// to carry the server's Nats-Request-Info: only the publisher's import and
// the admin may publish there (TestOnlyAdminManages checks the roles). The
// relay still stores only the kinds a person may publish, and refuses an
// atomic batch's message with an answer the publisher can read (the
// stream answers a batch's messages only at its commit).
func TestIntakeRefusesOtherKindsAndBatches(t *testing.T) {
	d := secured(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, ajs, _ := d.connect(t, natsauth.Admin)
	_, pjs, _ := d.connect(t, natsauth.Publisher)
	msg := &nats.Msg{Subject: "inventory.intake.holds.STL.1", Data: []byte(`{"count":1,"reservationId":"r"}`),
		Header: nats.Header{"Nats-Request-Info": []string{`{"acc":"PUBLISHER","user":"alice"}`}}}
	if ack, err := ajs.PublishMsg(ctx, msg); err == nil {
		t.Errorf("a hold through the intake was stored as %+v", ack)
	}
	batch := &nats.Msg{Subject: streams.EventSubject(sellable.Adjustment, key), Data: []byte(`{"count":1}`),
		Header: nats.Header{"Nats-Batch-Id": []string{"b1"}, "Nats-Batch-Sequence": []string{"1"}}}
	var ae *jetstream.APIError
	if ack, err := pjs.PublishMsg(ctx, batch); !errors.As(err, &ae) || ae.Code != 400 {
		t.Errorf("a batch message through the intake: %+v, %v; want the relay's 400", ack, err)
	}
}
