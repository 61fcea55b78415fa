package wire

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sellable/inventory/sellable"
)

// A cart reservation's record is stored on its own subject in the event
// stream (streams.CartSubject), once when it is created and again at
// every step of its lifecycle, always whole: the last message is the
// reservation's current state, read with one direct get. It is JSON,
// versioned like the view's values, because only this service writes
// and reads it; the lines' events (hold, release, ...) are the ones
// other systems consume, and they have Avro schemas.

// ContentTypeCart marks a cart reservation's record.
const ContentTypeCart = "application/vnd.sellable.cart+json"

const cartVersion = 1

type cartRecord struct {
	V         int        `json:"v"`
	ID        string     `json:"id"`
	State     string     `json:"state"`
	Lines     []cartLine `json:"lines"`
	ExpiresAt time.Time  `json:"expiresAt"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
}

type cartLine struct {
	LocationID string `json:"locationId"`
	SKU        string `json:"sku"`
	Count      int64  `json:"count"`
	// SellableAfter is the line's sellable quantity right after the
	// reservation was created: what the creating request answered, and
	// what a replay of it answers again.
	SellableAfter int64 `json:"sellableAfter"`
}

// Cart is a reservation as its record stores it: the domain value and,
// per line, the sellable quantity its creation left.
type Cart struct {
	Reservation   sellable.CartReservation
	SellableAfter []int64
}

// EncodeCart writes c's record.
func EncodeCart(c Cart) ([]byte, error) {
	r := c.Reservation
	rec := cartRecord{
		V: cartVersion, ID: r.ID, State: r.State.String(),
		ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Lines: make([]cartLine, len(r.Lines)),
	}
	for i, l := range r.Lines {
		rec.Lines[i] = cartLine{LocationID: l.Key.LocationID, SKU: l.Key.SKU, Count: l.Count}
		if i < len(c.SellableAfter) {
			rec.Lines[i].SellableAfter = c.SellableAfter[i]
		}
	}
	return json.Marshal(rec)
}

// DecodeCart reads a record EncodeCart wrote.
func DecodeCart(data []byte) (Cart, error) {
	var rec cartRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return Cart{}, fmt.Errorf("%w: cart: %v", ErrDecode, err)
	}
	if rec.V != cartVersion {
		return Cart{}, fmt.Errorf("%w: cart record version %d (this program reads %d)", ErrDecode, rec.V, cartVersion)
	}
	st, ok := sellable.ParseReservationState(rec.State)
	if !ok {
		return Cart{}, fmt.Errorf("%w: cart state %q", ErrDecode, rec.State)
	}
	c := Cart{
		Reservation: sellable.CartReservation{
			ID: rec.ID, State: st, ExpiresAt: rec.ExpiresAt.UTC(), CreatedAt: rec.CreatedAt.UTC(), UpdatedAt: rec.UpdatedAt.UTC(),
			Lines: make([]sellable.ReservationLine, len(rec.Lines)),
		},
		SellableAfter: make([]int64, len(rec.Lines)),
	}
	for i, l := range rec.Lines {
		c.Reservation.Lines[i] = sellable.ReservationLine{Key: sellable.Key{LocationID: l.LocationID, SKU: l.SKU}, Count: l.Count}
		c.SellableAfter[i] = l.SellableAfter
	}
	return c, nil
}
