package streams

import (
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ScheduleStream holds the message schedules that expire reservations and
// the messages they fire. It is a stream of its own, not part of
// EventStream, for two reasons read from nats-server 2.15.2:
//   - the server refuses AllowMsgSchedules on a DiscardNew stream (error
//     10052), and EventStream must stay DiscardNew (a full log refuses
//     new events rather than delete old ones under the view);
//   - enabling schedules forces AllowRollup on (and purges allowed), so
//     any publisher could send `Nats-Rollup: sub` onto an event subject
//     and erase a key's history. EventStream keeps rollups refused.
//
// A schedule's target must be a subject of its own stream, so a fired
// schedule lands here on ScheduleDueFilter and package expiry relays it,
// exactly once, into an expiry event on EventStream.
const ScheduleStream = "INVENTORY_SCHEDULES"

// scheduleRoot is the subject space of ScheduleStream. It has five tokens
// under "inventory", so it cannot collide with an event kind's subjects
// (inventory.<kind>.<loc>.<sku>, four tokens).
const scheduleRoot = root + ".schedules"

// ScheduleFilter matches every subject of ScheduleStream: the schedules
// and where they fire.
const ScheduleFilter = scheduleRoot + ".>"

// ExpiryScheduleSubject is where the schedule that expires reservation id
// at the instant at is stored. The instant is part of the subject, so
// schedules for different instants of one id never replace each other
// (the server rolls a schedule subject up to its last message): the
// schedule of whichever attempt stored the reservation always survives,
// whatever other attempts under the same id scheduled.
func ExpiryScheduleSubject(id string, at time.Time) string {
	return scheduleRoot + ".expire." + EncodeToken(id) + "." + strconv.FormatInt(at.UnixMilli(), 10)
}

// ExpiryDueSubject is where the schedules of reservation id fire.
func ExpiryDueSubject(id string) string {
	return scheduleRoot + ".due." + EncodeToken(id)
}

// ScheduleDueFilter matches every fired expiry schedule: what the relay
// consumes.
const ScheduleDueFilter = scheduleRoot + ".due.*"

// ScheduleStreamConfig is the schedule stream's definition.
func ScheduleStreamConfig(c Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        ScheduleStream,
		Description: "Reservation expiry schedules and the messages they fire",
		Subjects:    []string{ScheduleFilter},
		Storage:     jetstream.FileStorage,
		// A fired message is deleted once the relay has acknowledged it;
		// a pending schedule is not consumed by anyone and stays until it
		// fires (the server then purges it). No age or size limit: a
		// schedule deleted before it fires is an expiry that never happens.
		Retention:         jetstream.WorkQueuePolicy,
		Discard:           jetstream.DiscardOld,
		AllowMsgSchedules: true,
		// The server forces these on with schedules; saying so keeps
		// Diff quiet and the choice visible. Only the service's NATS user
		// may publish here (see README, NATS permissions).
		AllowRollup: true,
		Replicas:    c.Replicas,
		Duplicates:  replayWindow,
	}
}

// ScheduleAt is the HeaderSchedule value that fires once at t. The server
// parses it with time.RFC3339, which takes fractional seconds.
func ScheduleAt(t time.Time) string {
	return "@at " + t.UTC().Format(time.RFC3339Nano)
}
