package sellable

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Kind says which of the two event kinds an event is.
type Kind uint8

const (
	// Adjustment is a signed change of on-hand stock from a warehouse.
	Adjustment Kind = iota + 1
	// Reservation is a positive decrement as the shop sells.
	Reservation
)

func (k Kind) String() string {
	switch k {
	case Adjustment:
		return "adjustment"
	case Reservation:
		return "reservation"
	}
	return "unknown"
}

// Event is one adjustment or reservation of one position.
type Event struct {
	Kind  Kind
	Key   Key
	Count int64
	// Reason and Reference say why an adjustment was made (both optional,
	// adjustments only); they travel with the event and are shown in the
	// position's history, never folded.
	Reason    Reason
	Reference string
	// Source names who recorded the event (the authenticated principal),
	// empty when unknown.
	Source string
}

// Validate checks the key, the count, the reason and the reference,
// naming the field that is wrong.
func (e Event) Validate() error {
	if err := e.Key.Validate(); err != nil {
		return err
	}
	if err := ValidateCount(e.Kind, e.Count); err != nil {
		return &FieldError{Field: "count", Err: err}
	}
	return validateNote(e.Kind, e.Reason, e.Reference)
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
)

// ValidateCount applies the rules for a count of an event of kind k.
func ValidateCount(k Kind, count int64) error {
	switch {
	case count > MaxCount || count < -MaxCount:
		return ErrCountRange
	case k == Adjustment && count == 0:
		return ErrZeroCount
	case k == Reservation && count <= 0:
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
