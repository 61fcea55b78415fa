package sellable

import (
	"errors"
	"fmt"
)

// StockCount sets a position's on-hand to an absolute value: a stock
// take. It is recorded as the adjustment that gets there, decided on the
// position as of its key's last event, so a concurrent event is never
// lost (the adjustment is refused and decided again if the key moved).
type StockCount struct {
	Key    Key
	OnHand int64
	// Expected, when HasExpected, makes the count a compare-and-set: it
	// is refused (OnHandMismatch) unless the on-hand it is decided on is
	// Expected, as Shopify's compareQuantity.
	Expected    int64
	HasExpected bool
}

// Validate checks the key and the counts, naming the field that is wrong.
func (c StockCount) Validate() error {
	if err := c.Key.Validate(); err != nil {
		return err
	}
	if c.OnHand < 0 || c.OnHand > MaxCount {
		return &FieldError{Field: "onHand", Err: fmt.Errorf("must be between 0 and %d", MaxCount)}
	}
	return nil
}

// CountResult is what a stock count did.
type CountResult struct {
	// Previous is the on-hand the count was decided on.
	Previous int64
	// Adjustment is what was appended: OnHand - Previous, 0 when the
	// position already had that on-hand and nothing was appended.
	Adjustment int64
	// Receipt is where the adjustment was stored; when nothing was
	// appended, Seq is the key's last event the decision read.
	Receipt Receipt
}

// ErrOnHandMismatch means a compare-and-set count found another on-hand
// than the expected one; nothing was appended.
var ErrOnHandMismatch = errors.New("on-hand is not the expected one")

// OnHandMismatch is ErrOnHandMismatch with the on-hand that was found.
type OnHandMismatch struct {
	Expected, Current int64
}

func (e *OnHandMismatch) Error() string {
	return fmt.Sprintf("expectedOnHand is %d but onHand is %d", e.Expected, e.Current)
}

func (e *OnHandMismatch) Unwrap() error { return ErrOnHandMismatch }

// ErrCountTooFar means the adjustment a count needs is beyond ±MaxCount,
// the bound of one event.
var ErrCountTooFar = fmt.Errorf("the adjustment it needs is beyond ±%d", MaxCount)
