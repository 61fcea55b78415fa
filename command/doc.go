// Package command is the write side's application service: it validates
// an adjustment or reservation and appends it to the event stream,
// returning only once JetStream has stored it (durable before
// acknowledged). A command becomes a sellable.Event, encoded by a
// wire.EventCodec and published on streams.EventSubject. An idempotency key is scoped to the request it came
// with (idempotency.go): the stream's duplicate window drops a repeat,
// and a fingerprint header on the stored event tells a retry of the same
// request from another request under the same key.
package command
