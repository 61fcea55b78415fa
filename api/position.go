package api

import (
	"encoding/json"
	"strconv"
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
		UpdatedAt: formatTime(p.UpdatedAt),
	}
}

// AppendPosition appends the answer to GET of p, byte for byte what
// Echo's c.JSON writes for positionResponse(p) (newline included), to
// dst. The point query is the hottest route: written by hand it costs no
// reflection and one allocation at most, and a read model can build it
// once per change and serve it as it is
// (TestAppendPositionIsTheJSONAnswer holds it to encoding/json).
func AppendPosition(dst []byte, p sellable.Position) []byte {
	dst = append(dst, `{"locationId":`...)
	dst = appendJSONString(dst, p.LocationID)
	dst = append(dst, `,"sku":`...)
	dst = appendJSONString(dst, p.SKU)
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, p.Count, 10)
	dst = append(dst, `,"onHand":`...)
	dst = strconv.AppendInt(dst, p.OnHand, 10)
	dst = append(dst, `,"reserved":`...)
	dst = strconv.AppendInt(dst, p.Reserved, 10)
	dst = append(dst, `,"sellable":`...)
	dst = strconv.AppendInt(dst, p.Count, 10)
	dst = append(dst, `,"adjusted":`...)
	dst = strconv.AppendInt(dst, p.OnHand, 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, p.Seq, 10)
	dst = append(dst, `,"updatedAt":"`...)
	dst = p.UpdatedAt.UTC().Truncate(time.Millisecond).AppendFormat(dst, TimeFormat)
	return append(dst, "\"}\n"...)
}

// PositionAnswer is AppendPosition into a buffer of its own, sized for
// a typical answer.
func PositionAnswer(p sellable.Position) []byte {
	return AppendPosition(make([]byte, 0, 192+len(p.LocationID)+len(p.SKU)), p)
}

// appendJSONString appends s as encoding/json writes it (HTML-escaped,
// as Echo's encoder does). Identifiers are nearly always plain ASCII,
// which is copied; anything else goes through encoding/json, so the two
// can never disagree on an escape.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
