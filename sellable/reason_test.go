package sellable_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sellable/inventory/sellable"
)

func TestEventReasonAndReference(t *testing.T) {
	key := sellable.Key{LocationID: "STL", SKU: "1"}
	for _, tc := range []struct {
		name  string
		e     sellable.Event
		field string
		err   error
	}{
		{name: "none", e: sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 1}},
		{name: "every reason", e: sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 1, Reason: sellable.ReasonCycleCount, Reference: "PO-4711 · Zürich"}},
		{name: "unknown reason", e: sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 1, Reason: "stolen"}, field: "reason", err: sellable.ErrReason},
		{name: "reason case matters", e: sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 1, Reason: "Received"}, field: "reason", err: sellable.ErrReason},
		{name: "long reference", e: sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 1, Reference: strings.Repeat("x", sellable.MaxReferenceLength+1)}, field: "reference", err: sellable.ErrReference},
		{name: "reference at the limit", e: sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 1, Reference: strings.Repeat("x", sellable.MaxReferenceLength)}},
		{name: "control in reference", e: sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 1, Reference: "a\nb"}, field: "reference", err: sellable.ErrReference},
		{name: "invalid utf8 reference", e: sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 1, Reference: "a\xff"}, field: "reference", err: sellable.ErrReference},
		{name: "reason on a reservation", e: sellable.Event{Kind: sellable.Reservation, Key: key, Count: 1, Reason: sellable.ReasonOther}, field: "reason", err: sellable.ErrReasonKind},
		{name: "reference on a reservation", e: sellable.Event{Kind: sellable.Reservation, Key: key, Count: 1, Reference: "x"}, field: "reference", err: sellable.ErrReasonKind},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.e.Validate()
			if tc.err == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *sellable.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, tc.err) {
				t.Fatalf("Validate = %v, want %v on field %s", err, tc.err, tc.field)
			}
		})
	}
	for _, r := range sellable.Reasons {
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
}
