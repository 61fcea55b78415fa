package feed

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sellable/inventory/sellable"
)

var (
	// ErrSlowConsumer ends a subscription whose reader fell behind the
	// live changes by more than its queue holds.
	ErrSlowConsumer = errors.New("slow consumer")
	// ErrTooManySubscribers refuses a subscription over the process's
	// limit.
	ErrTooManySubscribers = errors.New("too many subscribers")
	// ErrClosed ends a subscription that was stopped: its context ended
	// or the server shuts down.
	ErrClosed = errors.New("subscription closed")
)

// Change is one sellable change as the feed delivers it.
type Change struct {
	// ID is the cursor after the change: where a subscriber that read it
	// resumes. Shared by every subscriber that gets the change; not to be
	// modified.
	ID Cursor
	// Partition and Seq are where the change is stored: its sequence in
	// its partition's bucket stream.
	Partition int
	Seq       uint64
	Position  sellable.Position
	// Frame is the change already encoded as its reader writes it, once
	// for every subscriber that receives it (a hub encodes each change
	// once, not once per subscriber); nil leaves the encoding to the
	// reader. Readers must not modify it: it is shared.
	Frame []byte
}

// Filter selects the changes of one location, one SKU, both or neither;
// an empty field matches any.
type Filter struct {
	LocationID string
	SKU        string
}

// Matches reports whether f selects p: the same selection as the
// subject filter a consumer of f's changes uses, evaluated in process.
func (f Filter) Matches(p sellable.Position) bool {
	return (f.LocationID == "" || f.LocationID == p.LocationID) && (f.SKU == "" || f.SKU == p.SKU)
}

// Validate checks the identifiers that are set.
func (f Filter) Validate() error {
	if f.LocationID != "" {
		if err := sellable.ValidateID(f.LocationID); err != nil {
			return &sellable.FieldError{Field: "location", Err: err}
		}
	}
	if f.SKU != "" {
		if err := sellable.ValidateID(f.SKU); err != nil {
			return &sellable.FieldError{Field: "sku", Err: err}
		}
	}
	return nil
}

// Subscription is the bounded queue between the stream and one reader.
// While it catches up with stored changes the source waits for the reader
// (Put blocks): the stream holds the rest, so memory stays bounded and
// nothing is lost. Once live, the source never waits (Offer): a reader
// more than the queue's capacity behind is dropped with ErrSlowConsumer,
// so one stalled client can neither hold memory nor slow the others.
type Subscription struct {
	c    chan Change
	done chan struct{}
	once sync.Once
	err  error // set before done is closed
	// last is the id of the last change the reader took, for the final
	// event's resume hint.
	mu   sync.Mutex
	last Cursor
}

// NewSubscription is a subscription whose queue holds capacity changes,
// starting after after (nil: not known yet, see SetStart).
func NewSubscription(capacity int, after Cursor) *Subscription {
	return &Subscription{c: make(chan Change, capacity), done: make(chan struct{}), last: after}
}

// Put queues ch, waiting while the queue is full, until ctx ends or the
// subscription is closed; it reports whether ch was queued.
func (s *Subscription) Put(ctx context.Context, ch Change) bool {
	select {
	case s.c <- ch:
		return true
	case <-s.done:
	case <-ctx.Done():
	}
	return false
}

// Offer queues ch without waiting; when the queue is full the
// subscription ends with ErrSlowConsumer and Offer reports false.
func (s *Subscription) Offer(ch Change) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	select {
	case s.c <- ch:
		return true
	default:
		s.Close(fmt.Errorf("%w: more than %d changes waiting", ErrSlowConsumer, cap(s.c)))
		return false
	}
}

// Close ends the subscription with err (nil: ErrClosed); the first call
// wins. What is queued can still be read.
func (s *Subscription) Close(err error) {
	s.once.Do(func() {
		if err == nil {
			err = ErrClosed
		}
		s.err = err
		close(s.done)
	})
}

// Err is why the subscription ended, once Done is closed; nil before.
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Done is closed when the subscription ended.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Next waits up to wait (0: not at all) for changes and returns those
// queued, at most cap(buf) (buf's storage is reused). With none queued it returns nil
// and nil when wait passed, or nil and why the subscription ended once
// it did and the queue is empty.
func (s *Subscription) Next(ctx context.Context, buf []Change, wait time.Duration) ([]Change, error) {
	out := buf[:0]
	fill := func() []Change {
		for len(out) < cap(out) {
			select {
			case ch := <-s.c:
				out = append(out, ch)
			default:
				return s.took(out)
			}
		}
		return s.took(out)
	}
	if out = fill(); len(out) > 0 {
		return out, nil
	}
	if wait <= 0 {
		// A writer topping up its batch asks without waiting, often:
		// no timer for it.
		select {
		case <-s.done:
			if out = fill(); len(out) > 0 {
				return out, nil
			}
			return nil, s.err
		default:
			return nil, nil
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case ch := <-s.c:
		out = append(out, ch)
		return fill(), nil
	case <-s.done:
		// Changes queued before the end are still delivered.
		if out = fill(); len(out) > 0 {
			return out, nil
		}
		return nil, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, nil
	}
}

func (s *Subscription) took(out []Change) []Change {
	if len(out) > 0 {
		s.mu.Lock()
		s.last = out[len(out)-1].ID
		s.mu.Unlock()
	}
	return out
}

// SetStart sets where the subscription starts when it was not known at
// NewSubscription (a subscription from now on starts where its source
// is when it joins), unless the reader took a change already.
func (s *Subscription) SetStart(c Cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = c
	}
}

// Last is the id of the last change the reader took (or the cursor it
// started after): where it should resume; nil if neither is known.
func (s *Subscription) Last() Cursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Queued is how many changes wait in the queue.
func (s *Subscription) Queued() int { return len(s.c) }

// Cap is the queue's capacity.
func (s *Subscription) Cap() int { return cap(s.c) }
