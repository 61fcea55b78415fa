package sellable

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Kind says which kind of inventory event an event is.
type Kind uint8

const (
	// Adjustment is a signed change of on-hand stock from a warehouse.
	Adjustment Kind = iota + 1
	// Reservation is the seed's unconditional decrement as the shop
	// sells: it adds to Reserved for good ("sold, not yet shipped") and
	// is never released.
	Reservation
	// Hold is one line of a cart reservation (see Reservation type
	// CartReservation): it adds to Reserved until the cart is released,
	// expires or is fulfilled. It is only ever stored by a decision on
	// the log (command.Decider), never sent by hand.
	Hold
	// Release returns a held line: Reserved goes down by its count.
	Release
	// Fulfilment ships a held line: it leaves both Reserved and OnHand,
	// so the sellable quantity does not change.
	Fulfilment
	// Expiry returns a held line whose reservation was not confirmed in
	// time; its effect is Release's, the kind says why.
	Expiry
)

// Kinds lists every kind, in the order of their values.
var Kinds = []Kind{Adjustment, Reservation, Hold, Release, Fulfilment, Expiry}

func (k Kind) String() string {
	switch k {
	case Adjustment:
		return "adjustment"
	case Reservation:
		return "reservation"
	case Hold:
		return "hold"
	case Release:
		return "release"
	case Fulfilment:
		return "fulfilment"
	case Expiry:
		return "expiry"
	}
	return "unknown"
}

// OfReservation reports whether k is one of the kinds a cart
// reservation's lifecycle stores on its lines; such events carry the
// reservation's id.
func (k Kind) OfReservation() bool { return k >= Hold && k <= Expiry }

// Event is one change of one position.
type Event struct {
	Kind  Kind
	Key   Key
	Count int64
	// ReservationID names the cart reservation a Hold, Release,
	// Fulfilment or Expiry belongs to; empty for the other kinds.
	ReservationID string
}

// Validate checks the key and the count, naming the field that is wrong.
func (e Event) Validate() error {
	if err := e.Key.Validate(); err != nil {
		return err
	}
	if err := ValidateCount(e.Kind, e.Count); err != nil {
		return &FieldError{Field: "count", Err: err}
	}
	if e.Kind.OfReservation() {
		if err := ValidateReservationID(e.ReservationID); err != nil {
			return &FieldError{Field: "reservationId", Err: err}
		}
	} else if e.ReservationID != "" {
		return &FieldError{Field: "reservationId", Err: ErrUnexpectedReservation}
	}
	return nil
}

// MaxCount bounds the size of one event, so that sums over billions of
// events stay far from int64 overflow.
const MaxCount = 1_000_000_000

var (
	// ErrZeroCount means an adjustment of 0, which changes nothing.
	ErrZeroCount = errors.New("must not be zero")
	// ErrNotPositive means a reservation of 0 or less.
	ErrNotPositive = errors.New("must be positive")
	// ErrCountRange means a count beyond ±MaxCount.
	ErrCountRange = fmt.Errorf("must be between -%d and %d", MaxCount, MaxCount)
	// ErrCountSyntax means a count that is not a canonical decimal integer
	// or a string holding one.
	ErrCountSyntax = errors.New("must be a decimal integer (no sign but -, no leading zeros) or a string holding one")
	// ErrMissingCount means an event without a count.
	ErrMissingCount = errors.New("is required")
	// ErrUnexpectedReservation means a reservation id on an adjustment or
	// a seed reservation, which belong to no cart.
	ErrUnexpectedReservation = errors.New("only cart reservation events name a reservation")
)

// ValidateCount applies the rules for a count of an event of kind k.
func ValidateCount(k Kind, count int64) error {
	switch {
	case count > MaxCount || count < -MaxCount:
		return ErrCountRange
	case k == Adjustment && count == 0:
		return ErrZeroCount
	case k != Adjustment && count <= 0:
		return ErrNotPositive
	}
	return nil
}

// Quantity is a count as clients send it: a JSON integer, or a string that
// holds one ("100"), as in the original system's examples.
type Quantity struct {
	Value int64
	Set   bool
}

// UnmarshalJSON accepts 100, "100", "-5" and rejects 1.5, "abc", true.
// Inside a string the digits follow JSON's own integer grammar, so "+5",
// "05" and " 5" are refused: one count has one spelling.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*q = Quantity{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return ErrCountSyntax
		}
		b = []byte(s)
	}
	if !canonicalInt(b) {
		return ErrCountSyntax
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return ErrCountSyntax
	}
	*q = Quantity{Value: v, Set: true}
	return nil
}

// MarshalJSON writes the plain integer.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, q.Value, 10), nil
}

// canonicalInt reports whether b is -?(0|[1-9][0-9]*), a JSON integer.
func canonicalInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
