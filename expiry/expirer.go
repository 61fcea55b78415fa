package expiry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sellable/inventory/sellable"
)

// Reservations is what expiring needs of the reservation service
// (command.Reservations): read a reservation from the log, and take it
// through the Expire step, which is decided on its record with the
// expected-last-subject-sequence check (so it happens once, and never
// after a confirm, release or fulfil that was stored first).
type Reservations interface {
	Get(ctx context.Context, id string) (sellable.CartReservation, error)
	Expire(ctx context.Context, id string) (sellable.CartReservation, error)
}

// expirer is the Expirer over the reservation service.
type expirer struct {
	rs    Reservations
	clock func() time.Time
}

// NewExpirer decides fired schedules with rs.
func NewExpirer(rs Reservations) Expirer { return &expirer{rs: rs, clock: time.Now} }

// Expire implements Expirer. The reservation's record is read from the
// log itself (its subject's last message), not from a view, so "not
// found" means it was never stored: the schedule of an attempt that
// stored nothing. A schedule for another instant than the reservation's
// own, due later, is left to that one.
func (e *expirer) Expire(ctx context.Context, d Due) error {
	res, err := e.rs.Get(ctx, d.ID)
	switch {
	case errors.Is(err, sellable.ErrReservationNotFound):
		return nil
	case err != nil:
		return err
	case res.State != sellable.Active:
		return nil
	case !At(res.ExpiresAt).Equal(At(d.At)) && res.ExpiresAt.After(e.clock()):
		return nil
	}
	_, err = e.rs.Expire(ctx, d.ID)
	if errors.Is(err, sellable.ErrTransition) {
		return nil // settled between the read and the step
	}
	if err != nil {
		return fmt.Errorf("expiry: expire %s: %w", d.ID, err)
	}
	return nil
}
