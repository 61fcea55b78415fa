package api

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/sellable/inventory/sellable"
)

// TestAppendPositionIsTheJSONAnswer holds the hand-written encoder of the
// point query to what encoding/json, as Echo's c.JSON uses it (HTML
// escaping, a trailing newline), writes for the same answer: identifiers
// that need escaping, extreme counts, times with and without a zone.
func TestAppendPositionIsTheJSONAnswer(t *testing.T) {
	at := time.Date(2026, 11, 27, 3, 4, 5, 678901234, time.FixedZone("X", -5*3600))
	for _, p := range []sellable.Position{
		{LocationID: "STL", SKU: "123123", Count: 3, OnHand: 5, Reserved: 2, Seq: 42, UpdatedAt: at},
		{LocationID: `a"b\c`, SKU: "<&>", Count: -7, OnHand: math.MinInt64, Reserved: math.MaxInt64, Seq: math.MaxUint64},
		{LocationID: "ünï\u2028cødé", SKU: "tab\there\x7f", UpdatedAt: at.UTC()},
		{LocationID: "L", SKU: "S"},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(positionResponse(p)); err != nil {
			t.Fatal(err)
		}
		if got := PositionAnswer(p); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("AppendPosition(%+v)\n got %s\nwant %s", p, got, want.Bytes())
		}
	}
}
