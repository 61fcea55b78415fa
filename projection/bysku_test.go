package projection_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sellable/inventory/sellable"
)

// The table by SKU follows the same changes as the table by location,
// newest seq winning, and answers a SKU's locations in order, filtered
// or not.
func TestBySKU(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	var want []sellable.Position
	for i := range 30 {
		p := pos(fmt.Sprintf("L%02d", i), "shared", int64(10+i), int64(i), uint64(100+i))
		if err := s.Upsert(ctx, p); err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
		if err := s.Upsert(ctx, pos(fmt.Sprintf("L%02d", i), "other", 1, 0, uint64(200+i))); err != nil {
			t.Fatal(err)
		}
	}
	// An older change arriving late loses in both tables.
	if err := s.Upsert(ctx, pos("L00", "shared", 999, 0, 50)); err != nil {
		t.Fatal(err)
	}
	got, err := s.BySKU(ctx, "shared", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d locations, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("location %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	got, err = s.BySKU(ctx, "shared", []string{"L03", "L07", "nowhere"})
	if err != nil || len(got) != 2 || got[0] != want[3] || got[1] != want[7] {
		t.Fatalf("filtered = %+v, %v", got, err)
	}
	if got, err := s.BySKU(ctx, "never", nil); err != nil || len(got) != 0 {
		t.Fatalf("unknown SKU = %+v, %v", got, err)
	}
	var fe *sellable.FieldError
	if _, err := s.BySKU(ctx, "", nil); !errors.As(err, &fe) || fe.Field != "sku" {
		t.Fatalf("empty sku: %v", err)
	}
	if _, err := s.BySKU(ctx, "x", []string{""}); !errors.As(err, &fe) || fe.Field != "location" {
		t.Fatalf("empty location: %v", err)
	}
}

// A row written before on_hand and sellable existed still reads, from
// adjusted and count; the next change fills the new columns.
func TestRowWithoutOnHandReads(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	old := pos("STL", "v1", 90, 10, 5)
	if err := s.UpsertV1(ctx, old); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "STL", "v1"); err != nil || got != old {
		t.Fatalf("v1 row = %+v, %v; want %+v", got, err, old)
	}
	newer := pos("STL", "v1", 95, 10, 6)
	if err := s.Upsert(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "STL", "v1"); err != nil || got != newer {
		t.Fatalf("after a change = %+v, %v; want %+v", got, err, newer)
	}
}
