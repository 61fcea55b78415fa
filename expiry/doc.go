// Package expiry releases reservations that nobody confirmed or released
// by their expiresAt, without a sweeper: the expiry is a JetStream message
// schedule, stored before the reservation, that fires even if every
// service was down at that moment.
//
// Where the schedules live. nats-server 2.15.2 refuses message schedules
// on a DiscardNew stream (error 10052), and enabling them forces
// AllowRollup on, which on INVENTORY would let any publisher erase a
// key's history with `Nats-Rollup: sub`. A schedule's target must be a
// subject of its own stream, and an atomic batch is one stream's (a batch
// that spans two streams is refused, 10176 "batch is incomplete"), so the
// schedule cannot ride in the reservation's batch either. Schedules live
// in streams.ScheduleStream and fire onto streams.ExpiryDueSubject; the
// Relay turns each fired message into an expiry decision on INVENTORY.
// (streams/schedules_test.go shows each of these on the server.)
//
// Order of writes. command.Reservations.Reserve (WithExpiry) stores the
// schedule inside its decision, after the stock check and before it
// returns the batch to publish: the schedule is stored first, the
// reservation's batch (holds and the cart's record) only after the
// schedule's publish ack. A crash between the two leaves a schedule
// without a reservation, which fires as a no-op; the other order could
// leave a reservation that never expires. Two guards keep it so:
//   - the schedule's subject carries its instant
//     (streams.ExpiryScheduleSubject), so two attempts under one
//     reservation id with different expiresAt never replace each other's
//     schedule (the server rolls a schedule subject up to its last
//     message): the attempt that stored the reservation has its own;
//   - Reserve refuses (503) to store a reservation less than 5 s before
//     its expiresAt, so its batch cannot land after its schedule fired
//     and was decided as "never stored" (the minimum ttl is 10 s).
//
// Exactly once. The relay is a durable consumer on the work-queue stream:
// a fired message stays until the relay acks it, and it acks only after
// the Expirer returned, that is after the expiry's batch was acknowledged
// (or it decided there is nothing to expire); a crash in between
// redelivers it. The Expirer (NewExpirer) reads the reservation's record
// from the log itself (the cart subject's last message, not a view):
// not found, not active, or due at another instant is a no-op. Otherwise
// it takes the Expire step, which the reservation service decides on the
// record with Nats-Expected-Last-Subject-Sequence on the cart's subject,
// in one atomic batch with one Expiry event per line: of two racing
// relays, or an expiry racing a confirm, exactly one batch is stored and
// the other decision finds the new state. That expectation is why the
// expiry needs no Nats-Msg-Id: a redelivered schedule, or a retry after
// an unknown outcome, re-reads the record and finds it expired, with no
// duplicate window to outlive. Units come back exactly once.
//
// Latency. The server checks schedules with a timer of at least 250 ms,
// and a fired message is decided at once, so units come back well within
// a second of expiresAt (TestReservationsExpireExactlyOnce logs it);
// after an outage that spans expiresAt, the schedule fires as soon as
// the server is back and the relay decides it when its program is.
//
// Permissions. The schedule stream allows rollups and purges (the
// server forces both on with schedules): a client that can publish on
// inventory.schedules.> could replace or erase a pending schedule, so
// only the service's NATS user may (see sec-nats's permissions).
package expiry
