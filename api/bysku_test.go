package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
)

// A SKU's availability across locations from the KV view: every location
// that has it, with totals, identifiers that need encoding included, and
// nothing of SKUs whose tokens merely contain it.
func TestBySKUHTTP(t *testing.T) {
	s := newStack(t)
	sku := "a.b*"
	locs := []string{"Zürich 1", "STL", "x.y", "loc>"}
	for i, loc := range locs {
		for _, cmd := range []string{
			fmt.Sprintf(`{"locationId":%q,"sku":%q,"count":%d}`, loc, sku, 10*(i+1)),
			fmt.Sprintf(`{"locationId":%q,"sku":"b*","count":1000}`, loc),
			fmt.Sprintf(`{"locationId":%q,"sku":"xa.b*","count":1000}`, loc),
		} {
			if st, out := s.do(t, http.MethodPost, "/inventory/adjustment", cmd); st != http.StatusCreated {
				t.Fatalf("%s: %d %v", cmd, st, out)
			}
		}
		if st, out := s.do(t, http.MethodPost, "/inventory/reservation", fmt.Sprintf(`{"locationId":%q,"sku":%q,"count":1}`, loc, sku)); st != http.StatusCreated {
			t.Fatalf("reservation: %d %v", st, out)
		}
	}
	path := "/inventory/skus/" + url.PathEscape(sku)
	var out map[string]any
	poll.Until(t, 10*time.Second, "every location folded", func() error {
		var st int
		st, out = s.do(t, http.MethodGet, path, "")
		totals, _ := out["totals"].(map[string]any)
		if st != http.StatusOK || totals["sellable"] != float64(100-4) {
			return fmt.Errorf("%d %v", st, out)
		}
		return nil
	})
	got := out["locations"].([]any)
	if len(got) != len(locs) {
		t.Fatalf("locations: %v", got)
	}
	if first := got[0].(map[string]any); first["locationId"] != "STL" || first["onHand"] != float64(20) || first["reserved"] != float64(1) || first["sellable"] != float64(19) {
		t.Fatalf("STL first (location order): %v", first)
	}
	if totals := out["totals"].(map[string]any); totals["onHand"] != float64(100) || totals["reserved"] != float64(4) {
		t.Fatalf("totals: %v", totals)
	}

	st, out := s.do(t, http.MethodGet, path+"?location="+url.QueryEscape("Zürich 1")+"&location=nowhere&location=STL", "")
	got, _ = out["locations"].([]any)
	if st != http.StatusOK || len(got) != 2 || out["totals"].(map[string]any)["onHand"] != float64(30) {
		t.Fatalf("filtered: %d %v", st, out)
	}
	if st, out := s.do(t, http.MethodGet, "/inventory/skus/never", ""); st != http.StatusOK || len(out["locations"].([]any)) != 0 {
		t.Fatalf("unknown SKU: %d %v", st, out)
	}
	if st, out := s.do(t, http.MethodGet, path+"?location=", ""); st != http.StatusBadRequest || out["field"] != "location" {
		t.Fatalf("empty location: %d %v", st, out)
	}
	many := strings.Repeat("location=l&", 100)
	if st, out := s.do(t, http.MethodGet, path+"?"+many+"location=z", ""); st != http.StatusBadRequest || out["field"] != "location" {
		t.Fatalf("101 locations: %d %v", st, out)
	}
}
