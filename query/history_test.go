package query_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/query"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// History pages through a key's events newest first, whatever else the
// stream holds around them, with reasons and references as stored; a
// kind this version does not know and a body it cannot read are shown,
// not skipped and not fatal.
func TestHistory(t *testing.T) {
	ctx := context.Background()
	sys := systemtest.Start(t, systemtest.Config{Avro: true})
	log := query.NewEventLog(sys.JS, sys.Wire.Decoders)
	key := sellable.Key{LocationID: "H", SKU: "1"}

	if _, err := log.History(ctx, key, 0, 10); !errors.Is(err, sellable.ErrNotFound) {
		t.Fatalf("no events: %v, want ErrNotFound", err)
	}

	// A newer version's stream stores a kind this one does not know.
	st, err := sys.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.Subjects = append(cfg.Subjects, "inventory.recounts.*.*")
	if _, err := sys.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	// 300 events of the key, interleaved with other keys' (more of
	// them early on, so the windows must grow and shrink).
	var want []uint64 // the key's seqs, ascending
	for i := range 300 {
		noise := 1
		if i < 100 {
			noise = 7
		}
		for j := range noise {
			if _, err := sys.Commands.Record(ctx, sellable.Command{Kind: sellable.Adjustment, LocationID: "H", SKU: fmt.Sprint("other", j), Count: 1}); err != nil {
				t.Fatal(err)
			}
		}
		c := sellable.Command{Kind: sellable.Adjustment, LocationID: key.LocationID, SKU: key.SKU, Count: int64(i + 1)}
		if i%2 == 0 {
			c.Reason, c.Reference = sellable.ReasonReceived, fmt.Sprint("PO-", i)
		}
		if i%3 == 0 {
			c = sellable.Command{Kind: sellable.Reservation, LocationID: key.LocationID, SKU: key.SKU, Count: 1}
		}
		rc, err := sys.Commands.Record(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rc.Seq)
	}
	ack, err := sys.JS.Publish(ctx, "inventory.recounts.H.1", []byte(`{"reservationId":"r1"}`))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := sys.JS.PublishMsg(ctx, &nats.Msg{Subject: "inventory.adjustments.H.1", Data: []byte("not json")})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, ack.Sequence, bad.Sequence)

	page, err := log.History(ctx, key, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 {
		t.Fatalf("first page: %+v", page)
	}
	if e := page.Entries[0]; e.Seq != bad.Sequence || e.Kind != "adjustment" || e.Decoded || e.Err == nil {
		t.Fatalf("undecodable event shown as %+v", e)
	}
	if e := page.Entries[1]; e.Seq != ack.Sequence || e.Kind != "recounts" || e.Decoded || e.Err != nil {
		t.Fatalf("unknown kind shown as %+v", e)
	}
	// Every page size walks the whole history, newest first, once.
	for _, limit := range []int{1, 7, 50, 500} {
		var got []uint64
		before := uint64(0)
		for {
			page, err := log.History(ctx, key, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Entries) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page.Entries))
			}
			for _, e := range page.Entries {
				got = append(got, e.Seq)
			}
			if page.Before == 0 {
				break
			}
			before = page.Before
		}
		if len(got) != len(want) {
			t.Fatalf("limit %d: %d events, want %d", limit, len(got), len(want))
		}
		for i, seq := range got {
			if seq != want[len(want)-1-i] {
				t.Fatalf("limit %d: event %d is seq %d, want %d", limit, i, seq, want[len(want)-1-i])
			}
		}
	}

	// Reasons, references and kinds as recorded.
	page, err = log.History(ctx, key, want[3], 3) // i = 2, 1, 0
	if err != nil {
		t.Fatal(err)
	}
	e2, e1, e0 := page.Entries[0], page.Entries[1], page.Entries[2]
	if e2.Kind != "adjustment" || e2.Event.Count != 3 || e2.Event.Reason != sellable.ReasonReceived || e2.Event.Reference != "PO-2" {
		t.Fatalf("i=2: %+v", e2)
	}
	if e1.Kind != "adjustment" || e1.Event.Count != 2 || e1.Event.Reason != "" || e1.Event.Reference != "" {
		t.Fatalf("i=1: %+v", e1)
	}
	if e0.Kind != "reservation" || e0.Event.Count != 1 || e0.Time.IsZero() {
		t.Fatalf("i=0: %+v", e0)
	}
	if page.Before != 0 {
		t.Fatalf("oldest page says there is more before %d", page.Before)
	}

	if _, err := log.History(ctx, key, 0, 0); !isField(err, "limit") {
		t.Fatalf("limit 0: %v", err)
	}
	if _, err := log.History(ctx, key, 0, sellable.MaxHistoryLimit+1); !isField(err, "limit") {
		t.Fatalf("limit too large: %v", err)
	}
	if page, err := log.History(ctx, key, 1, 5); err != nil || len(page.Entries) != 0 || page.Before != 0 {
		t.Fatalf("before the first event: %+v, %v", page, err)
	}
}

func isField(err error, field string) bool {
	var fe *sellable.FieldError
	return errors.As(err, &fe) && fe.Field == field
}

// A key with a dense old history behind a long stretch of other keys'
// events: the window that grows across the stretch holds more of the
// key's events than a page needs and must shrink, and the pages still
// walk every event once, newest first.
func TestHistoryWindowShrinks(t *testing.T) {
	ctx := context.Background()
	sys := systemtest.Start(t, systemtest.Config{})
	log := query.NewEventLog(sys.JS, nil)
	key := sellable.Key{LocationID: "W", SKU: "1"}
	rec := func(sku string) uint64 {
		rc, err := sys.Commands.Record(ctx, sellable.Command{Kind: sellable.Adjustment, LocationID: key.LocationID, SKU: sku, Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		return rc.Seq
	}
	var want []uint64
	for range 400 {
		want = append(want, rec(key.SKU))
	}
	for range 1500 {
		rec("other")
	}
	want = append(want, rec(key.SKU))

	var got []uint64
	before := uint64(0)
	for n := 0; ; n++ {
		page, err := log.History(ctx, key, before, 50)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && len(page.Entries) != 50 {
			t.Fatalf("first page has %d events, want 50", len(page.Entries))
		}
		for _, e := range page.Entries {
			got = append(got, e.Seq)
		}
		if page.Before == 0 {
			break
		}
		before = page.Before
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i, seq := range got {
		if seq != want[len(want)-1-i] {
			t.Fatalf("event %d is seq %d, want %d", i, seq, want[len(want)-1-i])
		}
	}
}
