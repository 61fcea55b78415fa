package api

import (
	"time"

	"github.com/sellable/inventory/sellable"
)

// TimeFormat is how every query answer writes a time: RFC 3339 in UTC
// with milliseconds, whichever store answered. The view keeps
// nanoseconds and Scylla milliseconds; served alike, the same position
// reads the same on both paths.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// PositionResponse is a position as the query API serves it. It is its
// own type so that the stored values (KV, Scylla) can keep their shape.
type PositionResponse struct {
	LocationID string `json:"locationId"`
	SKU        string `json:"sku"`
	// Count is the sellable quantity, as the seed's clients read it.
	Count int64 `json:"count"`
	// OnHand, Reserved and Sellable (= OnHand - Reserved = Count) are
	// the three quantities of a position.
	OnHand   int64 `json:"onHand"`
	Reserved int64 `json:"reserved"`
	Sellable int64 `json:"sellable"`
	// Adjusted is OnHand under its seed name, kept for the seed's
	// clients (deprecated in the OpenAPI document).
	Adjusted  int64  `json:"adjusted"`
	Seq       uint64 `json:"seq"`
	UpdatedAt string `json:"updatedAt"`
}

func positionResponse(p sellable.Position) PositionResponse {
	return PositionResponse{
		LocationID: p.LocationID, SKU: p.SKU,
		Count: p.Count, OnHand: p.OnHand, Reserved: p.Reserved, Sellable: p.Count, Adjusted: p.OnHand, Seq: p.Seq,
		UpdatedAt: p.UpdatedAt.UTC().Truncate(time.Millisecond).Format(TimeFormat),
	}
}
