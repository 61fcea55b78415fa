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
	Count      int64  `json:"count"`
	Adjusted   int64  `json:"adjusted"`
	Reserved   int64  `json:"reserved"`
	Seq        uint64 `json:"seq"`
	UpdatedAt  string `json:"updatedAt"`
}

func positionResponse(p sellable.Position) PositionResponse {
	return PositionResponse{
		LocationID: p.LocationID, SKU: p.SKU,
		Count: p.Count, Adjusted: p.Adjusted, Reserved: p.Reserved, Seq: p.Seq,
		UpdatedAt: formatTime(p),
	}
}

func formatTime(p sellable.Position) string {
	return p.UpdatedAt.UTC().Truncate(time.Millisecond).Format(TimeFormat)
}
