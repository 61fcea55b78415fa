// Package query holds the read side that goes beyond one stored value:
// reading a position once it reflects a given event sequence (read your
// writes, Reader), and a position's history read straight from the event
// stream (EventLog.History). Every query path (the KV view of the
// all-in-one and the calculators, the Scylla projection of
// sellable-service) wraps its store in a Reader over the same EventLog,
// so a write acknowledged by any process can be read back from any other.
//
// Why the log and not only the view: a view value records the sequence of
// the last event folded into it, which says nothing about events of
// other keys. To know whether a position reflects "everything up to
// sequence N", the reader asks the log for the key's last event at all;
// if that is older than N, the position is complete once it reflects
// that event.
package query
