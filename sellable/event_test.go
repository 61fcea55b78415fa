package sellable_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sellable/inventory/sellable"
)

func TestEventSourceIsBounded(t *testing.T) {
	e := sellable.Event{Kind: sellable.Adjustment, Key: sellable.Key{LocationID: "STL", SKU: "1"}, Count: 1}
	e.Source = strings.Repeat("s", sellable.MaxSourceLength)
	if err := e.Validate(); err != nil {
		t.Fatalf("source at the limit: %v", err)
	}
	e.Source += "s"
	var fe *sellable.FieldError
	if err := e.Validate(); !errors.As(err, &fe) || fe.Field != "source" {
		t.Fatalf("source over the limit: %v", err)
	}
}
