package wire_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/wire"
)

// The JSON change message keeps the shape it had when it was
// sellable.Position's JSON, and reads back into the same position.
func TestChangeJSONShape(t *testing.T) {
	p := sellable.Position{LocationID: "STL", SKU: "123123", Count: 90, OnHand: 100, Reserved: 10, Seq: 42,
		UpdatedAt: time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)}
	m, err := wire.ChangeMsg(p)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"locationId":"STL","sku":"123123","count":90,"adjusted":100,"reserved":10,"seq":42,"updatedAt":"2024-01-02T03:04:05.123456789Z"}`
	if string(m.Data) != want {
		t.Fatalf("change body %s\nwant %s", m.Data, want)
	}
	// No Nats-Msg-Id: the server would track one per change (ChangeMsg).
	if m.Subject != "inventory.sellable.STL.123123" || m.Header.Get(nats.MsgIdHdr) != "" {
		t.Fatalf("subject %q, msg id %q", m.Subject, m.Header.Get(nats.MsgIdHdr))
	}
	got, err := wire.DecodeChange(m.Header, m.Data)
	if err != nil || got != p {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	if c := wire.ChangeOf(p); c.Position() != p {
		t.Fatalf("conversion round trip %+v", c.Position())
	}
}
