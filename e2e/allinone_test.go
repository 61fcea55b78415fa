package e2e

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

type allInOne struct {
	base, natsURL string
	env           map[string]string
}

func newAllInOne(t *testing.T) *allInOne {
	httpAddr, natsAddr := freeAddr(t), freeAddr(t)
	return &allInOne{
		base:    "http://" + httpAddr,
		natsURL: "nats://" + natsAddr,
		env: map[string]string{
			"INVENTORY_HTTP_ADDR":   httpAddr,
			"INVENTORY_NATS_LISTEN": natsAddr,
			"INVENTORY_DATA_DIR":    filepath.Join(t.TempDir(), "data"),
			"NATS_URL":              "",
			// Not the test command's Cassandra, and not the fixed port
			// of its query API: tests run in parallel. The projection
			// test sets both.
			"SCYLLA_HOSTS":            "",
			"INVENTORY_SELLABLE_ADDR": freeAddr(t),
		},
	}
}

func (a *allInOne) start(t *testing.T) *process {
	t.Helper()
	p := start(t, "inventory", "inventory", a.env)
	waitReady(t, a.base)
	return p
}

// The original system's walkthrough, on the one command a newcomer runs;
// then garbage on a subject, a graceful restart and a crash.
func TestAllInOne(t *testing.T) {
	t.Parallel()
	a := newAllInOne(t)
	p := a.start(t)

	command(t, a.base, "adjustment", "STL", "123123", 100, "")
	command(t, a.base, "reservation", "STL", "123123", 10, "")
	waitCount(t, a.base, "STL", "123123", 90)
	command(t, a.base, "adjustment", "STL", "123123", 100, "")
	waitCount(t, a.base, "STL", "123123", 190)

	// Garbage straight onto the subject, as with `nats pub`: it goes to
	// the dead-letter stream and the next valid event still applies.
	nc, err := nats.Connect(a.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, "inventory.adjustments.STL.123123", []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "inventory.adjustments.STL.123123", []byte(`{"count":5}`)); err != nil {
		t.Fatal(err)
	}
	waitCount(t, a.base, "STL", "123123", 195)
	dlq, err := js.Stream(ctx, "INVENTORY_DLQ")
	if err != nil {
		t.Fatal(err)
	}
	m, err := dlq.GetLastMsgForSubject(ctx, "inventory.deadletter.>")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "garbage" || m.Header.Get("Inventory-Error") == "" {
		t.Fatalf("dead letter %q with headers %v", m.Data, m.Header)
	}

	// Commands travel as Avro that names its schema in the registry the
	// all-in-one serves.
	events, err := js.Stream(ctx, "INVENTORY")
	if err != nil {
		t.Fatal(err)
	}
	first, err := events.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ct := first.Header.Get("Content-Type"); ct != "application/vnd.confluent.avro" || len(first.Data) < 5 || first.Data[0] != 0 {
		t.Fatalf("stored command: content type %q, body % x", ct, first.Data)
	}
	reg, err := api(a.base).RegistrySubjectsWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The registry answers in Confluent's media type, as Confluent does.
	var subjects []string
	if reg.ApplicationvndSchemaregistryV1JSON200 != nil {
		subjects = *reg.ApplicationvndSchemaregistryV1JSON200
	} else if reg.JSON200 != nil {
		subjects = *reg.JSON200
	}
	// The event schemas, and no change schema: the changes are the view's
	// JSON values.
	if !slices.Contains(subjects, "inventory.adjustments-value") || !slices.Contains(subjects, "inventory.reservations-value") ||
		slices.Contains(subjects, "inventory.sellable-value") {
		t.Fatalf("registry subjects: %v", subjects)
	}
	nc.Close()

	// Graceful restart: the value is there before any new command.
	p.stop()
	p = a.start(t)
	waitCount(t, a.base, "STL", "123123", 195)

	// Crash: acknowledged commands survive kill -9 of the whole process.
	command(t, a.base, "reservation", "STL", "123123", 95, "")
	p.kill()
	a.start(t)
	waitCount(t, a.base, "STL", "123123", 100)
	command(t, a.base, "adjustment", "STL", "123123", 1, "")
	waitCount(t, a.base, "STL", "123123", 101)

	status, out, err := position(t, a.base, "STL", "nothing-here")
	if err != nil || status != http.StatusNotFound {
		t.Fatalf("unknown key: %d %v %v", status, out, err)
	}
}
