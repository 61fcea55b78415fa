// Package wire is the wire format of the events: how an event is written
// into, and read back from, a message body. It holds the JSON and Avro
// event codecs, Codecs/DecodeStored (a stored event message to a
// sellable.Event), the content types, the embedded .avsc schemas
// (schemas/) with their golden bytes (testdata/), and the bounds every
// writer schema and body is decoded within.
//
// Data flow: command encodes events with an EventCodec; the calculator
// decodes them with Codecs.DecodeStored and writes each new position to
// the view (package kv, whose value format is kv's own; the buckets
// republish it as the change on inventory.sellable.<loc>.<sku>, so a
// change has no codec here). streams names the subjects and headers
// these bodies travel on; registry stores the schemas (registry.Local
// adapts a registry.Store to SchemaRegistry).
//
// Bodies are Avro in the Confluent wire format, marked by the header
// Content-Type: application/vnd.confluent.avro (see ContentTypeAvro for
// the whole decision), or JSON when that header is absent, so that events
// published by hand with `nats pub` work.
//
// Decoding a stored event is on the calculator's hot path, once per
// event, so it allocates nothing for an ordinary body: the subject is cut
// into its tokens in place, a JSON body is read by a hand-written
// one-pass decoder (jsonevent.go) whose strings are slices of the body,
// and Avro records are decoded into pooled structs. The JSON decoder
// accepts exactly what encoding/json did (FuzzJSONEventMatchesEncodingJSON).
//
// Decoding an Avro body has bounded cost whoever wrote its schema: the
// writer schema an id names is checked against SchemaBounds before any
// decoder is built for it, and the body is walked within the byte and
// value limits of AvroConfig before hamba reads it (avro_bounds.go says
// why each bound exists). The golden files are rewritten, after an
// intended format change, with `go test ./wire -run Golden -update`.
package wire
