// Package command is the write side's application service: it validates
// an adjustment or reservation and appends it to the event stream,
// returning only once JetStream has stored it (durable before
// acknowledged). A command becomes a sellable.Event, encoded by a
// wire.EventCodec and published on streams.EventSubject. An idempotency key is scoped to the request it came
// with (idempotency.go): the stream's duplicate window drops a repeat,
// and a fingerprint header on the stored event tells a retry of the same
// request from another request under the same key.
//
// Commands are published asynchronously on a JetStream publisher of the
// Service's own (service.go): every handler's publish shares one ack
// subscription and the connection pipelines them, each handler waiting
// only for its own ack future. A window of AsyncWindow pending acks
// bounds them; a command that finds it full is refused with ErrBusy.
//
// Decisions that depend on the state of positions (a cart reservation
// that must not oversell, an absolute stock count) go through a Decider
// (decide.go): read each key's last sequence over its whole history, wait
// for the view to reflect it, decide, and store the result as one atomic
// batch whose every line expects its key's last sequence; a concurrent
// event makes the batch store nothing, and the decision is taken again.
// Reservations (reservation.go) is the cart reservation service built on
// it.
package command
