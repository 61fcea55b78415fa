package wire_test

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Every kind round-trips in JSON and in Avro, the reservation id of a
// cart line included; a cart line without its id, or a seed event with
// one, is refused; and an Avro record of one kind on another kind's
// subject is a mismatch.
func TestEveryKindRoundTrips(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	avro, codecs, err := wire.AvroCodecs(ctx, registry.Local{Store: store}, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := sellable.Key{LocationID: "a.b c", SKU: "ü*>"}
	for _, codec := range []wire.EventCodec{wire.JSON{}, avro} {
		h := nats.Header{streams.HeaderContentType: []string{codec.ContentType()}}
		for _, kind := range sellable.Kinds {
			e := sellable.Event{Kind: kind, Key: k, Count: 3}
			if kind.OfReservation() {
				e.ReservationID = "cart-1"
			}
			data, err := codec.EncodeEvent(e)
			if err != nil {
				t.Fatalf("%s %v: %v", codec.ContentType(), kind, err)
			}
			got, p, err := codecs.DecodeStored(ctx, streams.StoredEventSubject(kind, 2, k), h, data)
			if err != nil || got != e || p != 2 {
				t.Fatalf("%s %v: decoded %+v in %d, %v", codec.ContentType(), kind, got, p, err)
			}
		}
	}
	// By hand: a hold needs its reservation, an adjustment has none.
	json := nats.Header{}
	if _, _, err := codecs.DecodeStored(ctx, streams.StoredEventSubject(sellable.Hold, 0, k), json, []byte(`{"count":1}`)); err == nil {
		t.Fatal("a hold without reservationId was accepted")
	}
	if _, _, err := codecs.DecodeStored(ctx, streams.StoredEventSubject(sellable.Adjustment, 0, k), json, []byte(`{"count":1,"reservationId":"x"}`)); err == nil {
		t.Fatal("an adjustment with a reservationId was accepted")
	}
	// The seed's JSON still decodes.
	if e, _, err := codecs.DecodeStored(ctx, streams.StoredEventSubject(sellable.Reservation, 0, k), json, []byte(`{"locationId":"a.b c","sku":"ü*>","count":"10"}`)); err != nil || e.Count != 10 {
		t.Fatalf("seed reservation: %+v %v", e, err)
	}
	hold, err := avro.EncodeEvent(sellable.Event{Kind: sellable.Hold, Key: k, Count: 1, ReservationID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := codecs.DecodeStored(ctx, streams.StoredEventSubject(sellable.Release, 0, k), avroHeader(), hold); err == nil {
		t.Fatal("an Avro hold on a release subject was accepted")
	}
}
