package calculator

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// announced reports whether SELLABLE already holds pos's change, or a
// newer one, for its position. The calculator asks only for a key whose
// value a batch did not change, which happens on a replay (after a crash
// or a takeover, from the last checkpoint) and when two owners briefly
// overlap: the value may then have been announced already, or may have
// been written to the view by an owner that died before announcing it.
// Publishing only what SELLABLE lacks keeps every value announced once
// without a Nats-Msg-Id on each change, whose tracking cost the server
// memory in proportion to the change rate (BENCHMARKS.md, "Ten minutes at
// 5,000 events/s"). When the answer is unknown (a lookup or decode that
// fails) it says no: a change announced twice carries the same seq, which
// every consumer tells apart (see doc.go), while one never announced is
// lost to them.
func (p *partition) announced(ctx context.Context, pos sellable.Position) bool {
	if p.sellable == nil {
		s, err := p.js.Stream(ctx, streams.SellableStream)
		if err != nil {
			p.log.Warn("cannot look up the sellable stream; republishing", "partition", p.id, "err", err)
			return false
		}
		p.sellable = s
	}
	k := sellable.Key{LocationID: pos.LocationID, SKU: pos.SKU}
	m, err := p.sellable.GetLastMsgForSubject(ctx, streams.SellableSubject(k))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false
	}
	if err != nil {
		p.log.Warn("cannot read the last change; republishing", "partition", p.id, "key", streams.KeyToken(k), "err", err)
		return false
	}
	have, err := p.changes.DecodeChange(ctx, m.Header, m.Data)
	if err != nil {
		return false
	}
	return have.Seq >= pos.Seq
}
