package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ExpiryDue is the body of a reservation's expiry schedule, and so of the
// message the schedule fires (the server copies the body): which
// reservation, and the expiresAt the schedule was set for, so the relay
// can tell the schedule of the attempt that stored the reservation from
// a stray one of another attempt under the same id.
//
// It also names the keys of the reservation's lines, so the relay can
// decide on each key as of its last event (exactly) instead of trusting
// a view of the reservation that may lag behind the log.
type ExpiryDue struct {
	ReservationID string         `json:"reservationId"`
	ExpiresAt     time.Time      `json:"expiresAt"`
	Keys          []ExpiryDueKey `json:"keys"`
}

// ExpiryDueKey is one line's position.
type ExpiryDueKey struct {
	LocationID string `json:"locationId"`
	SKU        string `json:"sku"`
}

// ErrExpiryDue means a fired schedule's body is not an ExpiryDue.
var ErrExpiryDue = errors.New("wire: not an expiry schedule body")

// EncodeExpiryDue is the schedule body for d.
func EncodeExpiryDue(d ExpiryDue) ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("wire: encode expiry schedule: %w", err)
	}
	return b, nil
}

// DecodeExpiryDue reads a fired schedule's body.
func DecodeExpiryDue(b []byte) (ExpiryDue, error) {
	var d ExpiryDue
	if err := json.Unmarshal(b, &d); err != nil {
		return ExpiryDue{}, fmt.Errorf("%w: %w", ErrExpiryDue, err)
	}
	if d.ReservationID == "" || d.ExpiresAt.IsZero() || len(d.Keys) == 0 {
		return ExpiryDue{}, fmt.Errorf("%w: reservationId, expiresAt and keys are required", ErrExpiryDue)
	}
	return d, nil
}
