package query

import (
	"context"
	"errors"
	"time"

	"github.com/sellable/inventory/sellable"
)

// Positions reads one position of a view (kv.Store, projection.Reader).
type Positions interface {
	Get(ctx context.Context, locationID, sku string) (sellable.Position, error)
}

// Log says which event of a key the event stream stored last.
type Log interface {
	// LastSeq is the sequence of k's newest stored event, 0 when it has
	// none.
	LastSeq(ctx context.Context, k sellable.Key) (uint64, error)
}

// Polling of the view while waiting: short at first, since the
// calculator folds an event within milliseconds, then backing off so
// that a slow view is not hammered by its waiting readers.
const (
	firstPoll = time.Millisecond
	maxPoll   = 25 * time.Millisecond
)

// Reader reads positions from a view, optionally waiting until they
// reflect a sequence.
type Reader struct {
	view Positions
	log  Log
}

// NewReader reads view, asking log how far a key's events go.
func NewReader(view Positions, log Log) *Reader {
	return &Reader{view: view, log: log}
}

// Get reads the position as the view has it now.
func (r *Reader) Get(ctx context.Context, locationID, sku string) (sellable.Position, error) {
	return r.view.Get(ctx, locationID, sku)
}

// GetAtLeast reads the position once it reflects every event of it
// stored at or before sequence minSeq, waiting up to wait for the view to
// catch up. minSeq is typically the sequence a write answered, of this
// key or of any other (a session's last write): an event of another key
// is reflected as soon as this key's own earlier events are.
//
// Past wait it returns a *sellable.BehindError saying how far the view
// is. A position with no event at or before minSeq, nor after, is
// sellable.ErrNotFound at once.
func (r *Reader) GetAtLeast(ctx context.Context, locationID, sku string, minSeq uint64, wait time.Duration) (sellable.Position, error) {
	pos, err := r.view.Get(ctx, locationID, sku)
	if minSeq == 0 || (err == nil && pos.Seq >= minSeq) {
		return pos, err
	}
	if err != nil && !errors.Is(err, sellable.ErrNotFound) {
		return pos, err
	}
	// The view's value is older than minSeq: is there anything of this
	// key at or before minSeq that it misses?
	last, lerr := r.log.LastSeq(ctx, sellable.Key{LocationID: locationID, SKU: sku})
	if lerr != nil {
		return sellable.Position{}, lerr
	}
	target := min(minSeq, last)
	if target == 0 || (err == nil && pos.Seq >= target) {
		return pos, err
	}
	deadline := time.Now().Add(wait)
	for pause := firstPoll; ; pause = min(2*pause, maxPoll) {
		left := time.Until(deadline)
		if left <= 0 {
			return sellable.Position{}, &sellable.BehindError{MinSeq: minSeq, Seq: pos.Seq}
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return sellable.Position{}, ctx.Err()
		case <-t.C:
		}
		p, err := r.view.Get(ctx, locationID, sku)
		switch {
		case err == nil:
			if pos = p; pos.Seq >= target {
				return pos, nil
			}
		case !errors.Is(err, sellable.ErrNotFound):
			return sellable.Position{}, err
		}
	}
}
