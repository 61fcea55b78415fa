package feed

import "time"

// DeadLetter is a message the calculator could not apply, as read back
// from the dead-letter stream.
type DeadLetter struct {
	// Seq is its sequence in the dead-letter stream.
	Seq       uint64
	Partition int
	StoredAt  time.Time
	// Reason is why it could not be applied.
	Reason string
	// Subject and OrigSeq are where the original was stored in the event
	// stream.
	Subject string
	OrigSeq uint64
	// Body is the original body, possibly truncated (Truncated says what
	// was cut).
	Body      []byte
	Truncated string
	Headers   map[string][]string
}
