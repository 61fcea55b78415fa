// Package natsauth holds who may do what on NATS: the roles every program
// and operator connects as (admin, mutator, calculator, projector,
// registry, publisher, reader), each with the publish and subscribe
// permissions it needs and nothing else; how to generate one nkey per role
// with a server configuration include (Generate, `inventory admin
// nats-users`); and the client side of a connection: credentials and TLS
// (ClientConfig).
//
// Only the admin touches JetStream stream and bucket management ($JS.API
// STREAM.CREATE/UPDATE/DELETE/PURGE, MSG.DELETE, ...): the streams and
// buckets exist before the programs start (`inventory admin apply`), and
// the programs only look them up. Every other role reaches exactly the
// streams and buckets it works on, so a leaked publisher credential cannot
// forge a view value, a lease, a checkpoint or a schema, nor delete a
// stream (see the attack tests in attack_test.go).
//
// The publisher, the one role a person uses to publish events by hand,
// is a user of an account of its own (PublisherAccount, AccountOf): its
// event subjects are imported into the inventory's Account as a shared
// service on the intake subjects (streams.IntakeFilter), so that the
// server names its user on each event, and the mutators' intake relay
// (package intake) stores the event with that user as its source and
// answers with the PubAck. No role but the admin may publish on intake
// subjects, since the relay trusts the Nats-Request-Info found there.
package natsauth
