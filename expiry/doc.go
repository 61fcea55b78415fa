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
// Order of writes. The reservation path calls Scheduler.Schedule first
// and publishes the reservation's batch only after the schedule is
// stored. A crash between the two leaves a schedule without a
// reservation, which fires as a no-op; the other order could leave a
// reservation that never expires. The schedule's subject carries its
// instant (streams.ExpiryScheduleSubject), so two attempts under one
// reservation id with different expiresAt never replace each other's
// schedule: the attempt that stored the reservation always has its own.
//
// Exactly once. The relay is a durable consumer on the work-queue stream:
// a fired message stays until the relay acks it, and it acks only after
// the Expirer returned, that is after the expiry event's publish ack (or
// after deciding there is nothing to expire). The Expirer decides on the
// reservation's current state with the same expected-last-subject-sequence
// check as every reservation decision: only an active, unconfirmed
// reservation expires, and its expiry event carries a Nats-Msg-Id derived
// from the reservation id, so a redelivery after a crash between publish
// and ack is either dropped by the duplicate window or finds the
// reservation already expired. Units come back exactly once.
package expiry
