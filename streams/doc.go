// Package streams owns everything that names a message on NATS: the
// JetStream stream definitions, subject builders, header names, the
// reversible encoding of identifiers into subject tokens and KV keys, and
// the partition function shared with the server. How a message body is
// encoded is package wire's business; streams only names where it goes.
//
// Nobody else formats a subject string. Identifiers are encoded in exactly
// one function (EncodeToken) so that no input can inject wildcards or extra
// tokens into a subject or a KV key.
//
// The identity itself (sellable.Key, which ids are valid) is domain; its
// spelling on the wire lives here, as KeyToken and Partition, because it
// is NATS syntax: the escape must be legal in a subject token and a KV key,
// and Partition must hash the encoded tokens exactly as the server's
// partition() transform does. The domain must not know that syntax, and
// streams already imports sellable, so putting the encoding in sellable
// would either leak NATS into the domain or close an import circle.
//
// Data flow: command publishes on EventSubject; the INVENTORY stream
// stores each event on StoredEventSubject (partition inserted by the
// server); the calculator reads one partition (PartitionFilter) and
// writes the view under KeyToken keys, which the view's buckets
// republish on SellableSubject (SellableRepublish is the mapping's
// destination).
//
// A key's whole history is KeyHistoryFilter (every kind, one partition):
// the subject filter a decision's Nats-Expected-Last-Subject-Sequence is
// checked on. A cart reservation's record lives on CartSubject, three
// tokens, outside the partition transform and every partition filter.
//
// Ensure creates missing streams and never changes existing ones: their
// settings are shared by every process (see internal/drift). The one
// exception is an upgrade that only adds (new event subjects, atomic
// publish), which this version cannot run without and which takes
// nothing from older ones. Plan and Apply, behind `inventory admin`, are
// the deliberate way to change the rest, and to delete the Retired
// streams (SELLABLE, the second store of each change before issue 15.2),
// which Ensure only warns about.
package streams
