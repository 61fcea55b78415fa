// Package sellable is the domain: what identifies a position (Key, and the
// rules a location or SKU must follow), the two kinds of inventory event
// and the rules a count must follow (Event.Validate), and the fold of
// events into a position's sellable quantity (sellable = adjusted -
// reserved). It knows nothing of NATS, HTTP or databases, and its types
// carry no wire format: how a key is spelled on a subject is streams'
// business, how an event or a position is encoded is wire's, kv's and
// api's.
//
// Data flow: api and command turn requests into Events; the calculator
// folds them into Positions; kv, wire and api each convert a Position into
// their own stored or served type.
package sellable
