// Package streams owns everything that names or shapes a message on NATS:
// the JetStream stream definitions, subject builders, the reversible
// encoding of identifiers into subject tokens and KV keys, the partition
// function shared with the server, the event types and their codecs.
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
// Bodies are Avro in the Confluent wire format, marked by the header
// Content-Type: application/vnd.confluent.avro (see ContentTypeAvro for
// the whole decision), or JSON when that header is absent, so that events
// published by hand with `nats pub` work.
//
// Ensure creates missing streams and never changes existing ones: their
// settings are shared by every process (see internal/drift). Plan and
// Apply, behind `inventory admin`, are the deliberate way to change them.
//
// Decoding an Avro body has bounded cost whoever wrote its schema: the
// writer schema an id names is checked against SchemaBounds before any
// decoder is built for it, and the body is walked within the byte and
// value limits of AvroConfig before hamba reads it (avro_bounds.go says
// why each bound exists).
package streams
