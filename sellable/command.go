package sellable

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound means no event has reached a position yet.
	ErrNotFound = errors.New("position not found")
	// ErrUnavailable means the event store or the view cannot be reached
	// or did not answer in time; the call may be retried.
	ErrUnavailable = errors.New("store unavailable")
	// ErrIdempotencyConflict means an idempotency key already names
	// another request (another endpoint or another body) within the
	// window; nothing was stored.
	ErrIdempotencyConflict = errors.New("idempotency key was used for a different request")
	// ErrBehind means a view did not reflect the sequence a reader asked
	// for within the time it was willing to wait; see BehindError.
	ErrBehind = errors.New("view is behind the requested sequence")
)

// BehindError says how far a view is: it reflects the position up to
// event sequence Seq (0: no event of it yet), and the reader asked for
// MinSeq. It matches ErrBehind.
type BehindError struct {
	MinSeq uint64
	Seq    uint64
}

func (e *BehindError) Error() string {
	return fmt.Sprintf("%v: reflects the position up to seq %d, asked for %d", ErrBehind, e.Seq, e.MinSeq)
}

// Is makes errors.Is(err, ErrBehind) hold.
func (e *BehindError) Is(target error) bool { return target == ErrBehind }

// Command asks to record one adjustment or reservation.
type Command struct {
	Kind       Kind
	LocationID string
	SKU        string
	Count      int64
	// Reason and Reference are Event's: why stock changed (adjustments
	// only, optional).
	Reason    Reason
	Reference string
	// IdempotencyKey, when set, makes a retry of the same request within
	// the event stream's duplicate window record nothing new and answer
	// the original receipt. The key is scoped to the request: the same
	// key with another kind or other fields is an ErrIdempotencyConflict.
	IdempotencyKey string
	// Source is who sent the command: the authenticated principal (an
	// API key's id or a JWT's subject), empty when the server has no
	// credentials configured. Its event records it.
	Source string
}

// Receipt says where a recorded event was stored. api serves it as its
// own CommandResponse and ReceiptResponse.
type Receipt struct {
	Stream    string
	Seq       uint64
	Partition int
	// Duplicate is true when the idempotency key was seen before with
	// the same request: nothing new was stored, and Seq and Partition are
	// those of the original.
	Duplicate bool
}

// FieldError names the input field a validation error is about.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }
