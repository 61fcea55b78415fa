package expiry

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Scheduler stores expiry schedules.
type Scheduler struct {
	js jetstream.JetStream
}

// NewScheduler stores schedules through js.
func NewScheduler(js jetstream.JetStream) *Scheduler { return &Scheduler{js: js} }

// Schedule stores the schedule that expires reservation id at at, and
// returns once the stream has stored it. Call it before publishing the
// reservation (see the package doc). Storing the same (id, at) again
// replaces the schedule with an identical one.
func (s *Scheduler) Schedule(ctx context.Context, id string, at time.Time) error {
	at = at.UTC().Truncate(time.Millisecond)
	body, err := wire.EncodeExpiryDue(wire.ExpiryDue{ReservationID: id, ExpiresAt: at})
	if err != nil {
		return err
	}
	m := nats.NewMsg(streams.ExpiryScheduleSubject(id, at))
	m.Header.Set(streams.HeaderSchedule, streams.ScheduleAt(at))
	m.Header.Set(streams.HeaderScheduleTarget, streams.ExpiryDueSubject(id))
	m.Data = body
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("expiry: schedule %q at %s: %w", id, at.Format(time.RFC3339Nano), err)
	}
	return nil
}
