// Package sellable is the domain: the two kinds of inventory event, the
// rules a count must follow, and the fold of events into a position's
// sellable quantity (sellable = adjusted - reserved). It knows nothing of
// NATS, HTTP or databases.
package sellable
