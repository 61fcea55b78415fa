package wire_test

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/wire"
)

// An adjustment written before reasons existed (schema version 1, the
// bytes in testdata/adjustment_v1.avro) still decodes once the current
// schema is registered over it as version 2, a compatible evolution
// under the registry's BACKWARD check; it has no reason and no
// reference.
func TestAvroAdjustmentV1StillDecodes(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	reg := registry.Local{Store: store}
	v1, err := os.ReadFile("testdata/adjustment_v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("testdata/adjustment_v1.avro")
	if err != nil {
		t.Fatal(err)
	}
	idV1, err := reg.Register(ctx, wire.SubjectAdjustments, string(v1))
	if err != nil {
		t.Fatal(err)
	}
	evs := newCodecs(t, reg, wire.AvroConfig{})
	if evs.SchemaID(sellable.Adjustment) == idV1 {
		t.Fatal("current schema got version 1's id")
	}
	if v, err := store.Versions(ctx, wire.SubjectAdjustments); err != nil || len(v) != 2 {
		t.Fatalf("versions = %v, %v; want 1 and 2", v, err)
	}
	key := sellable.Key{LocationID: "STL", SKU: "123123"}
	data := append(binary.BigEndian.AppendUint32([]byte{0}, uint32(idV1)), body...)
	got, _, err := wire.NewCodecs(evs).DecodeStored(ctx, storedSubject(sellable.Adjustment, key), avroHeader(), data)
	want := sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 100}
	if err != nil || got != want {
		t.Fatalf("v1 body = %+v, %v; want %+v", got, err, want)
	}
}

// Reason and reference round-trip through both formats, and an event
// without them stays as it was.
func TestEventNoteRoundTrip(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	evs := newCodecs(t, registry.Local{Store: store}, wire.AvroConfig{})
	key := sellable.Key{LocationID: "STL", SKU: "note"}
	subject := storedSubject(sellable.Adjustment, key)
	for _, e := range []sellable.Event{
		{Kind: sellable.Adjustment, Key: key, Count: -3, Reason: sellable.ReasonDamaged, Reference: "ticket \"7\" · Zürich"},
		{Kind: sellable.Adjustment, Key: key, Count: 5},
		{Kind: sellable.Adjustment, Key: key, Count: 5, Reference: "only a reference"},
	} {
		for _, c := range []wire.EventCodec{wire.JSON{}, evs} {
			data, err := c.EncodeEvent(e)
			if err != nil {
				t.Fatal(err)
			}
			h := avroHeader()
			h.Set("Content-Type", c.ContentType())
			got, _, err := wire.NewCodecs(evs).DecodeStored(ctx, subject, h, data)
			if err != nil || got != e {
				t.Errorf("%s: %+v decodes as %+v, %v", c.ContentType(), e, got, err)
			}
		}
	}
	// A reason outside the set, published by hand, is refused (and so
	// dead-lettered by the calculator).
	_, _, err := wire.NewCodecs(evs).DecodeStored(ctx, subject, nil, []byte(`{"count":1,"reason":"stolen"}`))
	if err == nil {
		t.Fatal("a reason outside the set decoded")
	}
}
