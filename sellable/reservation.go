package sellable

import (
	"errors"
	"fmt"
	"time"
)

// A cart reservation holds stock of one or more keys for a while, all or
// nothing. It is decided on the event log (command.Reservations): its
// lines are Hold events on the lines' keys, stored in one atomic batch
// with the reservation's own record, and each later step of its
// lifecycle (confirm, release, fulfil, expire) is another atomic batch.
// This file holds the rules; where the state is kept is the transport's
// business.

// ReservationState is where a cart reservation is in its lifecycle.
type ReservationState uint8

const (
	// Active: the lines are held and the reservation expires at ExpiresAt
	// unless confirmed, released or fulfilled first.
	Active ReservationState = iota + 1
	// Confirmed: paid; the lines stay held and never expire.
	Confirmed
	// Released: cancelled; the lines' quantities returned to sellable.
	Released
	// Expired: not confirmed in time; the lines' quantities returned.
	Expired
	// Fulfilled: shipped; the lines left both reserved and on-hand.
	Fulfilled
)

func (s ReservationState) String() string {
	switch s {
	case Active:
		return "active"
	case Confirmed:
		return "confirmed"
	case Released:
		return "released"
	case Expired:
		return "expired"
	case Fulfilled:
		return "fulfilled"
	}
	return "unknown"
}

// ParseReservationState reads a state's String.
func ParseReservationState(s string) (ReservationState, bool) {
	for st := Active; st <= Fulfilled; st++ {
		if st.String() == s {
			return st, true
		}
	}
	return 0, false
}

// Limits of a cart reservation.
const (
	// MaxReservationLines bounds the lines of one reservation; the atomic
	// batch that stores them is one message more.
	MaxReservationLines = 100
	// MinReservationTTL and MaxReservationTTL bound how long an active
	// reservation lives: shorter than ten seconds cannot survive a
	// client's retry, longer than a day is not a cart any more.
	MinReservationTTL = 10 * time.Second
	MaxReservationTTL = 24 * time.Hour
	// DefaultReservationTTL is the lifetime when a request names none.
	DefaultReservationTTL = 15 * time.Minute
)

var (
	// ErrNoLines means a reservation without lines.
	ErrNoLines = errors.New("must hold at least one line")
	// ErrTooManyLines means more than MaxReservationLines lines.
	ErrTooManyLines = fmt.Errorf("must hold at most %d lines", MaxReservationLines)
	// ErrDuplicateLine means two lines of one reservation for one key.
	ErrDuplicateLine = errors.New("names a location and SKU another line already names")
	// ErrTTLRange means a lifetime outside MinReservationTTL..MaxReservationTTL.
	ErrTTLRange = fmt.Errorf("must be between %v and %v from now", MinReservationTTL, MaxReservationTTL)
	// ErrReservationNotFound means no reservation has the id.
	ErrReservationNotFound = errors.New("reservation not found")
	// ErrReservationMismatch means the reservation id already names a
	// reservation with other lines: the id is the idempotency key of the
	// request that created it.
	ErrReservationMismatch = errors.New("reservation id already names a reservation with other lines")
	// ErrInsufficientStock means at least one line is short; nothing was
	// reserved. It comes as an *InsufficientStockError.
	ErrInsufficientStock = errors.New("insufficient sellable stock")
	// ErrTransition means a lifecycle step the reservation's state does
	// not allow. It comes as a *TransitionError naming the state.
	ErrTransition = errors.New("transition not allowed")
)

// ReservationLine is one key of a reservation and how many it holds.
type ReservationLine struct {
	Key   Key
	Count int64
}

// CartReservation is a reservation and where it is in its lifecycle.
type CartReservation struct {
	ID        string
	Lines     []ReservationLine
	State     ReservationState
	ExpiresAt time.Time
	CreatedAt time.Time
	// UpdatedAt is when the current state was reached.
	UpdatedAt time.Time
}

// ValidateReservationID applies the rules of every identifier (ValidateID).
func ValidateReservationID(id string) error { return ValidateID(id) }

// ValidateLines checks a reservation's lines, naming the field:
// "lines", or "lines[3].count".
func ValidateLines(lines []ReservationLine) error {
	switch {
	case len(lines) == 0:
		return &FieldError{Field: "lines", Err: ErrNoLines}
	case len(lines) > MaxReservationLines:
		return &FieldError{Field: "lines", Err: ErrTooManyLines}
	}
	seen := make(map[Key]bool, len(lines))
	for i, l := range lines {
		if err := (Event{Kind: Hold, Key: l.Key, Count: l.Count, ReservationID: "-"}).Validate(); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return &FieldError{Field: fmt.Sprintf("lines[%d].%s", i, fe.Field), Err: fe.Err}
			}
			return err
		}
		if seen[l.Key] {
			return &FieldError{Field: fmt.Sprintf("lines[%d]", i), Err: ErrDuplicateLine}
		}
		seen[l.Key] = true
	}
	return nil
}

// SameLines reports whether a and b hold the same lines, in any order.
func SameLines(a, b []ReservationLine) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[Key]int64, len(a))
	for _, l := range a {
		m[l.Key] = l.Count
	}
	for _, l := range b {
		if c, ok := m[l.Key]; !ok || c != l.Count {
			return false
		}
	}
	return true
}

// Step is a lifecycle step a client or the system asks for.
type Step uint8

const (
	// Confirm: paid, no expiry any more.
	Confirm Step = iota + 1
	// Cancel: released by the client, quantities return.
	Cancel
	// Fulfil: shipped, the lines leave reserved and on-hand.
	Fulfil
	// Expire: released by the system at ExpiresAt, if still active.
	Expire
)

func (s Step) String() string {
	switch s {
	case Confirm:
		return "confirm"
	case Cancel:
		return "release"
	case Fulfil:
		return "fulfil"
	case Expire:
		return "expire"
	}
	return "unknown"
}

// Target is the state step leads to.
func (s Step) Target() ReservationState {
	switch s {
	case Confirm:
		return Confirmed
	case Cancel:
		return Released
	case Fulfil:
		return Fulfilled
	case Expire:
		return Expired
	}
	return 0
}

// LineKind is the kind of event step stores on each line; 0 for a step
// that changes no quantity (confirm).
func (s Step) LineKind() Kind {
	switch s {
	case Cancel:
		return Release
	case Fulfil:
		return Fulfilment
	case Expire:
		return Expiry
	}
	return 0
}

// Next says what step does to a reservation in state from: to is the
// state after it; changed is false when the reservation is already
// there (the step is a repeat and stores nothing). A step the state does
// not allow is a *TransitionError.
func (s Step) Next(from ReservationState) (to ReservationState, changed bool, err error) {
	to = s.Target()
	if from == to {
		return to, false, nil
	}
	allowed := false
	switch s {
	case Confirm, Expire:
		allowed = from == Active
	case Cancel, Fulfil:
		allowed = from == Active || from == Confirmed
	}
	if !allowed {
		return from, false, &TransitionError{Step: s, State: from}
	}
	return to, true, nil
}

// TransitionError is a step the reservation's state does not allow.
type TransitionError struct {
	Step  Step
	State ReservationState
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot %s a reservation that is %s", e.Step, e.State)
}

// Unwrap makes it an ErrTransition.
func (e *TransitionError) Unwrap() error { return ErrTransition }

// Shortage is a line that cannot be held: it asks for Requested and only
// Sellable are sellable.
type Shortage struct {
	Key       Key
	Requested int64
	Sellable  int64
}

// InsufficientStockError lists the short lines of a refused reservation.
type InsufficientStockError struct {
	Short []Shortage
}

func (e *InsufficientStockError) Error() string {
	return fmt.Sprintf("%v: %d line(s) short", ErrInsufficientStock, len(e.Short))
}

// Unwrap makes it an ErrInsufficientStock.
func (e *InsufficientStockError) Unwrap() error { return ErrInsufficientStock }
