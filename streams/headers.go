package streams

// Header names used on inventory messages.
const (
	// HeaderContentType says how a body is encoded. A message without it
	// is JSON, so that `nats pub` works by hand.
	HeaderContentType = "Content-Type"
	// HeaderRequestHash fingerprints the request (endpoint and fields)
	// that an idempotency key names, on the event stored first for it (a
	// single command, or command 0 of a batch), so a retry can tell its
	// own original from another request's.
	HeaderRequestHash = "Inventory-Request-Hash"
	// HeaderSource is who sent an event's command (the authenticated
	// principal), also in the body's source field. It is a header too so
	// that the event's dead letter, which keeps the application headers,
	// names it even when the body cannot be decoded.
	HeaderSource = "Inventory-Source"
	// HeaderError, on a dead letter, says why it could not be applied.
	HeaderError = "Inventory-Error"
	// HeaderOrigSubject, on a dead letter, is the subject it was stored on.
	HeaderOrigSubject = "Inventory-Original-Subject"
	// HeaderOrigSeq, on a dead letter, is its event stream sequence.
	HeaderOrigSeq = "Inventory-Original-Sequence"
)

// Message schedule headers (nats-server 2.12+), on ScheduleStream only.
const (
	// HeaderSchedule holds when a schedule fires: "@at <RFC 3339>".
	HeaderSchedule = "Nats-Schedule"
	// HeaderScheduleTarget is the subject a schedule fires onto.
	HeaderScheduleTarget = "Nats-Schedule-Target"
	// HeaderScheduler, on a fired message, names the schedule's subject.
	HeaderScheduler = "Nats-Scheduler"
)
