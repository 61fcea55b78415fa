package command

import (
	"context"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// Counts decides stock counts on the log with a Decider: the adjustment
// that gets on-hand to the counted value is decided on the position as
// of the key's last event (every kind) and stored with that event's
// sequence as its expectation, so an event that lands in between makes
// the stream refuse it and the count is decided again on the new
// on-hand. A concurrent receipt or sale is never overwritten.
type Counts struct {
	decider    *Decider
	partitions int
}

// NewCounts decides counts with d over a stream of the given partitions.
func NewCounts(d *Decider, partitions int) *Counts {
	return &Counts{decider: d, partitions: partitions}
}

// Count sets c.Key's on-hand to c.OnHand. Nothing is stored when on-hand
// already is c.OnHand; a compare-and-set that finds another on-hand is
// an *sellable.OnHandMismatch.
func (s *Counts) Count(ctx context.Context, c sellable.StockCount) (sellable.CountResult, error) {
	if err := c.Validate(); err != nil {
		return sellable.CountResult{}, err
	}
	var res sellable.CountResult
	st, err := s.decider.Decide(ctx, []sellable.Key{c.Key}, func(_ context.Context, ps []sellable.Position) (Decision, error) {
		pos := ps[0]
		if c.HasExpected && c.Expected != pos.OnHand {
			return Decision{}, &sellable.OnHandMismatch{Expected: c.Expected, Current: pos.OnHand}
		}
		res = sellable.CountResult{Previous: pos.OnHand, Adjustment: c.OnHand - pos.OnHand,
			Receipt: sellable.Receipt{Stream: streams.EventStream, Seq: pos.Seq, Partition: streams.Partition(c.Key, s.partitions)}}
		if res.Adjustment == 0 {
			return Decision{}, nil
		}
		if res.Adjustment > sellable.MaxCount || res.Adjustment < -sellable.MaxCount {
			return Decision{}, &sellable.FieldError{Field: "onHand", Err: sellable.ErrCountTooFar}
		}
		return Decision{Events: []sellable.Event{{Kind: sellable.Adjustment, Key: c.Key, Count: res.Adjustment}}}, nil
	})
	if err != nil {
		return sellable.CountResult{}, err
	}
	if len(st.Seqs) > 0 {
		res.Receipt.Stream, res.Receipt.Seq = st.Stream, st.Seqs[0]
	}
	return res, nil
}
