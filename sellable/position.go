package sellable

import "time"

// Position is the folded state of one (location, SKU): the view the
// calculator keeps and the query side serves. It has no wire format of
// its own: kv stores it as its versioned value, wire announces it as a
// Change, api serves it as a PositionResponse, each converting explicitly.
type Position struct {
	LocationID string
	SKU        string
	// Count is the sellable quantity, OnHand - Reserved. It is stored
	// rather than derived so that the KV value reads on its own.
	Count int64
	// OnHand is the stock at the location: the sum of adjustments, less
	// what was fulfilled (shipped).
	OnHand int64
	// Reserved is what is promised but not shipped: the seed's
	// reservations (never released) and the held lines of active or
	// confirmed cart reservations.
	Reserved int64
	// Seq is the event stream sequence of the last event folded in; events
	// at or below it are already reflected and are skipped.
	Seq uint64
	// UpdatedAt is when the last event folded in was stored.
	UpdatedAt time.Time
}

// Apply folds one event stored at seq and time at into p. It reports false,
// leaving p alone, when p already reflects seq: that is what makes
// redelivery harmless.
func (p *Position) Apply(kind Kind, count int64, seq uint64, at time.Time) bool {
	if seq <= p.Seq {
		return false
	}
	switch kind {
	case Adjustment:
		p.OnHand += count
	case Reservation, Hold:
		p.Reserved += count
	case Release, Expiry:
		p.Reserved -= count
	case Fulfilment:
		p.Reserved -= count
		p.OnHand -= count
	}
	p.Count = p.OnHand - p.Reserved
	p.Seq = seq
	p.UpdatedAt = at
	return true
}
