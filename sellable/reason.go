package sellable

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Reason says why on-hand stock changed. The set is fixed so that reports
// can group by it; free text belongs in Reference.
type Reason string

// The reasons an adjustment may give. The empty Reason means none was
// given, which is what every event from before reasons existed says.
const (
	ReasonReceived   Reason = "received"
	ReasonCorrection Reason = "correction"
	ReasonCycleCount Reason = "cycle_count"
	ReasonDamaged    Reason = "damaged"
	ReasonShrinkage  Reason = "shrinkage"
	ReasonReturned   Reason = "returned"
	ReasonOther      Reason = "other"
)

// Reasons lists every valid reason, in the order documentation shows them.
var Reasons = []Reason{
	ReasonReceived, ReasonCorrection, ReasonCycleCount, ReasonDamaged,
	ReasonShrinkage, ReasonReturned, ReasonOther,
}

// MaxReferenceLength bounds a reference (a purchase order, a ticket), in
// bytes of UTF-8: enough for any document number, small enough that an
// event stays small.
const MaxReferenceLength = 256

var (
	// ErrReason means a reason outside Reasons.
	ErrReason = errors.New("must be one of received, correction, cycle_count, damaged, shrinkage, returned, other")
	// ErrReasonKind means a reason or reference on an event kind that
	// takes none.
	ErrReasonKind = errors.New("only adjustments take a reason or a reference")
	// ErrReference means a reference that is too long, not UTF-8, or
	// holds control characters.
	ErrReference = fmt.Errorf("must be valid UTF-8 without control characters, at most %d bytes", MaxReferenceLength)
)

// Validate accepts the empty reason and the members of Reasons.
func (r Reason) Validate() error {
	if r == "" {
		return nil
	}
	for _, v := range Reasons {
		if r == v {
			return nil
		}
	}
	return ErrReason
}

// ValidateReference accepts the empty reference and bounded, printable
// UTF-8 text.
func ValidateReference(s string) error {
	if len(s) > MaxReferenceLength || !utf8.ValidString(s) {
		return ErrReference
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return ErrReference
		}
	}
	return nil
}

// validateNote checks the reason and reference of an event of kind k.
func validateNote(k Kind, reason Reason, reference string) error {
	if err := reason.Validate(); err != nil {
		return &FieldError{Field: "reason", Err: err}
	}
	if err := ValidateReference(reference); err != nil {
		return &FieldError{Field: "reference", Err: err}
	}
	if k != Adjustment && (reason != "" || reference != "") {
		field := "reason"
		if reason == "" {
			field = "reference"
		}
		return &FieldError{Field: field, Err: ErrReasonKind}
	}
	return nil
}
