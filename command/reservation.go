package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Cart reservations, decided on the log.
//
// Where the state lives. A reservation's lines are events on the lines'
// keys (Hold, then Release, Fulfilment or Expiry), so a position's
// Reserved moves with them and the position never grows with the number
// of reservations. The reservation itself (id, lines, state, times) is a
// record on its own subject in the same stream, streams.CartSubject(id),
// stored in the same atomic batch as the line events of each step: the
// subject's last message is the current state, read with one direct get,
// and the stream is all there is to rebuild (no view to lose, no dual
// write: one batch, all or nothing).
//
// Exactly once. Every step expects the last sequence of the cart's
// subject it decided on (creation expects 0): of two racing steps, or
// two racing creations under one id, one is stored and the other decides
// again on what the first stored. Creation also expects the last
// sequence of every line's key, so no line is held unless it was
// sellable as of the key's last event.
//
// Idempotency. The reservation id is the creating request's idempotency
// key: creating an id that exists answers the reservation as it is now
// when the lines are the same (a replay; its per-line sellable quantities
// are those the creation answered), and ErrReservationMismatch when they
// differ. Lifecycle steps are idempotent by state: confirming a confirmed
// reservation changes nothing and answers it.

// ReserveRequest asks to reserve lines, all or nothing.
type ReserveRequest struct {
	// ID names the reservation; empty: one is generated.
	ID    string
	Lines []sellable.ReservationLine
	// TTL or ExpiresAt (not both) says when an unconfirmed reservation
	// expires; neither: sellable.DefaultReservationTTL from now.
	TTL       time.Duration
	ExpiresAt time.Time
}

// Reserved is a reservation as a creating request answers it.
type Reserved struct {
	Reservation sellable.CartReservation
	// SellableAfter is each line's sellable quantity right after the
	// reservation was created.
	SellableAfter []int64
	// Replay is true when the reservation existed: nothing new was stored.
	Replay bool
}

// Reservations creates cart reservations and takes them through their
// lifecycle.
type Reservations struct {
	d        *Decider
	clock    func() time.Time
	schedule ExpiryScheduler
	// onCreate, when set, adds records to the batch that creates a
	// reservation (SetCreationRecords).
	onCreate func(sellable.CartReservation) ([]Record, error)
}

// SetCreationRecords makes every reservation's creating batch also store
// the records fn returns for it: they are stored with the holds and the
// reservation's record, all or nothing. (A message schedule cannot be
// one: an atomic batch is one stream's, and schedules cannot live in
// INVENTORY; see WithExpiry and package expiry.) Call it before serving.
func (r *Reservations) SetCreationRecords(fn func(sellable.CartReservation) ([]Record, error)) {
	r.onCreate = fn
}

// ExpiryScheduler stores what will expire a reservation at its time,
// whatever runs then (package expiry). Reserve calls it before it stores
// the reservation, so no crash leaves a reservation without its expiry;
// a schedule whose reservation was never stored fires as a no-op. Storing
// the same (id, at) again replaces the schedule with an identical one.
type ExpiryScheduler interface {
	Schedule(ctx context.Context, id string, at time.Time, keys []sellable.Key) error
}

// ReservationOption is an optional behaviour of Reservations.
type ReservationOption func(*Reservations)

// WithExpiry schedules every new reservation's expiry with s. Without it
// reservations never expire by themselves (Expire still works).
func WithExpiry(s ExpiryScheduler) ReservationOption {
	return func(r *Reservations) { r.schedule = s }
}

// NewReservations decides with d.
func NewReservations(d *Decider, opts ...ReservationOption) *Reservations {
	r := &Reservations{d: d, clock: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r
}

// lateDecision is how close to its expiresAt a reservation may still be
// stored. Its schedule is stored first and fires at expiresAt; a
// reservation stored after that would find its expiry already decided
// (as a no-op on a reservation that did not exist yet) and never expire.
// Refusing to store it this late (503, the client retries) closes that
// window short of a pause of more than this between here and the
// batch's commit, which PublishTimeout bounds well below.
const lateDecision = sellable.MinReservationTTL / 2

// Decider is the decider the reservations are taken with, for the other
// decisions of the same process (counts).
func (r *Reservations) Decider() *Decider { return r.d }

// errTTLBoth means a request with both a ttl and an expiresAt.
var errTTLBoth = errors.New("give ttl or expiresAt, not both")

// expiry is when a reservation requested now expires.
func expiry(now time.Time, req ReserveRequest) (time.Time, error) {
	switch {
	case req.TTL != 0 && !req.ExpiresAt.IsZero():
		return time.Time{}, &sellable.FieldError{Field: "ttl", Err: errTTLBoth}
	case !req.ExpiresAt.IsZero():
		if d := req.ExpiresAt.Sub(now); d < sellable.MinReservationTTL || d > sellable.MaxReservationTTL {
			return time.Time{}, &sellable.FieldError{Field: "expiresAt", Err: sellable.ErrTTLRange}
		}
		return req.ExpiresAt.UTC(), nil
	case req.TTL == 0:
		return now.Add(sellable.DefaultReservationTTL), nil
	case req.TTL < sellable.MinReservationTTL || req.TTL > sellable.MaxReservationTTL:
		return time.Time{}, &sellable.FieldError{Field: "ttl", Err: sellable.ErrTTLRange}
	}
	return now.Add(req.TTL), nil
}

// Reserve holds every line or none. A line that is short makes it an
// *sellable.InsufficientStockError listing every short line; invalid
// input a *sellable.FieldError; an id that names a reservation with
// other lines ErrReservationMismatch.
func (r *Reservations) Reserve(ctx context.Context, req ReserveRequest) (Reserved, error) {
	if req.ID == "" {
		req.ID = nuid.Next()
	}
	if err := sellable.ValidateReservationID(req.ID); err != nil {
		return Reserved{}, &sellable.FieldError{Field: "reservationId", Err: err}
	}
	if err := sellable.ValidateLines(req.Lines); err != nil {
		return Reserved{}, err
	}
	now := r.clock().UTC()
	expiresAt, err := expiry(now, req)
	if err != nil {
		return Reserved{}, err
	}
	keys := make([]sellable.Key, len(req.Lines))
	for i, l := range req.Lines {
		keys[i] = l.Key
	}
	subject := streams.CartSubject(req.ID)
	var out Reserved
	_, err = r.d.Decide(ctx, keys, func(ctx context.Context, ps []sellable.Position) (Decision, error) {
		cart, _, err := r.load(ctx, subject)
		switch {
		case err == nil:
			if !sellable.SameLines(cart.Reservation.Lines, req.Lines) {
				return Decision{}, fmt.Errorf("%w: %s", sellable.ErrReservationMismatch, req.ID)
			}
			out = Reserved{Reservation: cart.Reservation, SellableAfter: cart.SellableAfter, Replay: true}
			return Decision{}, nil
		case !errors.Is(err, sellable.ErrReservationNotFound):
			return Decision{}, err
		}
		var short []sellable.Shortage
		after := make([]int64, len(req.Lines))
		events := make([]sellable.Event, len(req.Lines))
		for i, l := range req.Lines {
			if ps[i].Count < l.Count {
				short = append(short, sellable.Shortage{Key: l.Key, Requested: l.Count, Sellable: ps[i].Count})
			}
			after[i] = ps[i].Count - l.Count
			events[i] = sellable.Event{Kind: sellable.Hold, Key: l.Key, Count: l.Count, ReservationID: req.ID}
		}
		if short != nil {
			return Decision{}, &sellable.InsufficientStockError{Short: short}
		}
		if r.schedule != nil {
			// Schedule first (see ExpiryScheduler). A decision taken
			// again schedules the same instant again: one schedule.
			if err := r.schedule.Schedule(ctx, req.ID, expiresAt, keys); err != nil {
				return Decision{}, fmt.Errorf("%w: %w", sellable.ErrUnavailable, err)
			}
			if r.clock().After(expiresAt.Add(-lateDecision)) {
				return Decision{}, fmt.Errorf("%w: reservation %s decided too close to its expiresAt", sellable.ErrUnavailable, req.ID)
			}
		}
		res := sellable.CartReservation{
			ID: req.ID, Lines: req.Lines, State: sellable.Active,
			ExpiresAt: expiresAt, CreatedAt: now, UpdatedAt: now,
		}
		rec, err := cartRecord(wire.Cart{Reservation: res, SellableAfter: after}, 0)
		if err != nil {
			return Decision{}, err
		}
		records := []Record{rec}
		if r.onCreate != nil {
			extra, err := r.onCreate(res)
			if err != nil {
				return Decision{}, err
			}
			records = append(records, extra...)
		}
		out = Reserved{Reservation: res, SellableAfter: after}
		return Decision{Events: events, Records: records}, nil
	})
	if err != nil {
		return Reserved{}, err
	}
	return out, nil
}

// Get reads a reservation; ErrReservationNotFound if none has the id.
func (r *Reservations) Get(ctx context.Context, id string) (sellable.CartReservation, error) {
	if err := sellable.ValidateReservationID(id); err != nil {
		return sellable.CartReservation{}, &sellable.FieldError{Field: "reservationId", Err: err}
	}
	cart, _, err := r.load(ctx, streams.CartSubject(id))
	return cart.Reservation, err
}

// Confirm marks a reservation paid: it no longer expires.
func (r *Reservations) Confirm(ctx context.Context, id string) (sellable.CartReservation, error) {
	return r.Step(ctx, id, sellable.Confirm)
}

// Release cancels a reservation: its lines' quantities return.
func (r *Reservations) Release(ctx context.Context, id string) (sellable.CartReservation, error) {
	return r.Step(ctx, id, sellable.Cancel)
}

// Fulfil ships a reservation: its lines leave reserved and on-hand.
func (r *Reservations) Fulfil(ctx context.Context, id string) (sellable.CartReservation, error) {
	return r.Step(ctx, id, sellable.Fulfil)
}

// Expire releases a reservation that is still active (not confirmed,
// released or fulfilled), exactly once however often and however
// concurrently it is called: this is the hook the expiry mechanism calls
// at ExpiresAt. It does not look at the clock, the caller says when;
// on a reservation that was settled first it answers a
// *sellable.TransitionError naming the state, and on one already expired
// the reservation, storing nothing.
func (r *Reservations) Expire(ctx context.Context, id string) (sellable.CartReservation, error) {
	return r.Step(ctx, id, sellable.Expire)
}

// Step takes a reservation one step through its lifecycle, storing the
// new record and, for a step that moves quantities, one event per line,
// in one atomic batch that expects the record it decided on. A repeat of
// the step that led to the current state stores nothing and answers the
// reservation; a step the state does not allow is a
// *sellable.TransitionError.
func (r *Reservations) Step(ctx context.Context, id string, step sellable.Step) (sellable.CartReservation, error) {
	if err := sellable.ValidateReservationID(id); err != nil {
		return sellable.CartReservation{}, &sellable.FieldError{Field: "reservationId", Err: err}
	}
	subject := streams.CartSubject(id)
	var out sellable.CartReservation
	_, err := r.d.Decide(ctx, nil, func(ctx context.Context, _ []sellable.Position) (Decision, error) {
		cart, seq, err := r.load(ctx, subject)
		if err != nil {
			return Decision{}, err
		}
		res := cart.Reservation
		to, changed, err := step.Next(res.State)
		if err != nil {
			return Decision{}, err
		}
		if !changed {
			out = res
			return Decision{}, nil
		}
		res.State, res.UpdatedAt = to, r.clock().UTC()
		var events []sellable.Event
		if kind := step.LineKind(); kind != 0 {
			for _, l := range res.Lines {
				events = append(events, sellable.Event{Kind: kind, Key: l.Key, Count: l.Count, ReservationID: id})
			}
		}
		rec, err := cartRecord(wire.Cart{Reservation: res, SellableAfter: cart.SellableAfter}, seq)
		if err != nil {
			return Decision{}, err
		}
		out = res
		return Decision{Events: events, Records: []Record{rec}}, nil
	})
	return out, err
}

// cartRecord is the record message of c, expecting seq on its subject.
func cartRecord(c wire.Cart, seq uint64) (Record, error) {
	data, err := wire.EncodeCart(c)
	if err != nil {
		return Record{}, fmt.Errorf("command: encode reservation: %w", err)
	}
	h := nats.Header{}
	h.Set(streams.HeaderContentType, wire.ContentTypeCart)
	return Record{Subject: streams.CartSubject(c.Reservation.ID), Data: data, Header: h, ExpectLastSeq: seq}, nil
}

// load reads the last record on a cart subject and its sequence.
func (r *Reservations) load(ctx context.Context, subject string) (wire.Cart, uint64, error) {
	st, err := r.d.stream(ctx)
	if err != nil {
		return wire.Cart{}, 0, err
	}
	m, err := st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return wire.Cart{}, 0, sellable.ErrReservationNotFound
	}
	if err != nil {
		return wire.Cart{}, 0, fmt.Errorf("%w: read %s: %w", sellable.ErrUnavailable, subject, err)
	}
	c, err := wire.DecodeCart(m.Data)
	if err != nil {
		return wire.Cart{}, 0, fmt.Errorf("command: %s at %d: %w", subject, m.Sequence, err)
	}
	return c, m.Sequence, nil
}
