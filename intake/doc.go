// Package intake stores the events a person publishes straight onto NATS
// in a secured deployment, with the NATS user who published them as
// their source (issue 13.5).
//
// The publisher role lives in an account of its own (natsauth.Generate).
// Its publishes of inventory.adjustments.<loc>.<sku> and
// inventory.reservations.<loc>.<sku> cross into the inventory's account
// through a service import with `share: true`, as
// inventory.intake.<kind>.<loc>.<sku> (streams.IntakeFilter): the server
// then sets Nats-Request-Info, naming the user and account, replacing any
// the publisher wrote. JetStream drops that header when it stores a
// message, so the event is not stored there directly: the Relay, a queue
// subscriber in every mutator and in the all-in-one, reads it, stores the
// event on its event subject with source "nats:<account>/<user>" (the
// Inventory-Source header and the JSON body's source, overwriting any the
// publisher set), keeps the body's other fields and the Nats-Msg-Id (so
// a duplicate is still a duplicate), and answers the publisher with the
// stream's PubAck, so `nats pub -J` and JetStream clients see the event
// stored as if they had published it to the stream.
//
// Without NATS users (the loopback default) nobody publishes on intake
// subjects and the programs do not run the relay: a message there could
// carry a Nats-Request-Info header of the publisher's own making.
package intake
