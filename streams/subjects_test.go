package streams_test

import (
	"errors"
	"testing"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// TestParseStoredSubject: exactly five tokens, the first "inventory";
// anything else is ErrBadSubject, and an empty key token is the key's
// own field error, as when the subject was split on every dot.
func TestParseStoredSubject(t *testing.T) {
	k := sellable.Key{LocationID: "STL", SKU: "a b"}
	subject := streams.StoredEventSubject(sellable.Reservation, 6, k)
	kind, p, got, err := streams.ParseStoredSubject(subject)
	if err != nil || kind != sellable.Reservation || p != 6 || got != k {
		t.Fatalf("ParseStoredSubject(%q) = %v, %d, %+v, %v", subject, kind, p, got, err)
	}
	for _, s := range []string{
		"", ".", "inventory", "inventory.adjustments.0.STL", "inventory.adjustments.0.STL.x.y",
		"inventory.adjustments.0.STL.x.", ".inventory.adjustments.0.STL", "inv.adjustments.0.STL.x",
		"inventory.nope.0.STL.x", "inventory.adjustments.p.STL.x", "inventory.adjustments..STL.x",
	} {
		if _, _, _, err := streams.ParseStoredSubject(s); !errors.Is(err, streams.ErrBadSubject) {
			t.Errorf("ParseStoredSubject(%q) = %v, want ErrBadSubject", s, err)
		}
	}
	for s, field := range map[string]string{"inventory.adjustments.0.STL.": "sku", "inventory.adjustments.0..x": "locationId"} {
		var fe *sellable.FieldError
		if _, _, _, err := streams.ParseStoredSubject(s); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("ParseStoredSubject(%q) = %v, want a %s field error", s, err, field)
		}
	}
	// A key without escapes is read in place: the calculator parses every
	// event's subject.
	plain := streams.StoredEventSubject(sellable.Adjustment, 1, sellable.Key{LocationID: "STL", SKU: "sku-1"})
	if n := testing.AllocsPerRun(100, func() { _, _, _, _ = streams.ParseStoredSubject(plain) }); n != 0 {
		t.Errorf("ParseStoredSubject(%q) allocates %v times, want 0", plain, n)
	}
}
