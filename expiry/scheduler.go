package expiry

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Scheduler stores expiry schedules.
type Scheduler struct {
	js jetstream.JetStream
}

// NewScheduler stores schedules through js.
func NewScheduler(js jetstream.JetStream) *Scheduler { return &Scheduler{js: js} }

// Due is a reservation's expiry: which reservation, when, and the keys of
// its lines (each decision on a line reads its key's last event).
type Due struct {
	ID   string
	At   time.Time
	Keys []sellable.Key
}

// Schedule stores the schedule that expires reservation id, whose lines
// are on keys, at at, and returns once the stream has stored it. Call it
// before publishing the reservation (see the package doc). Storing the
// same (id, at) again replaces the schedule with an identical one. The
// instant is kept to the millisecond (At).
func (s *Scheduler) Schedule(ctx context.Context, id string, at time.Time, keys []sellable.Key) error {
	d := Due{ID: id, At: at, Keys: keys}
	at = At(at)
	body, err := wire.EncodeExpiryDue(toWire(d))
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

// At is t as a schedule keeps it: UTC, to the millisecond.
func At(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func toWire(d Due) wire.ExpiryDue {
	w := wire.ExpiryDue{ReservationID: d.ID, ExpiresAt: At(d.At)}
	for _, k := range d.Keys {
		w.Keys = append(w.Keys, wire.ExpiryDueKey{LocationID: k.LocationID, SKU: k.SKU})
	}
	return w
}

func fromWire(w wire.ExpiryDue) Due {
	d := Due{ID: w.ReservationID, At: w.ExpiresAt}
	for _, k := range w.Keys {
		d.Keys = append(d.Keys, sellable.Key{LocationID: k.LocationID, SKU: k.SKU})
	}
	return d
}
