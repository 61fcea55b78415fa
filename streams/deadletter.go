package streams

import (
	"strconv"
	"strings"
)

// Headers a dead letter carries besides HeaderError, HeaderOrigSubject and
// HeaderOrigSeq.
const (
	// HeaderOrigPrefix renames the original message's NATS headers
	// (Nats-*) on its dead letter: copied as they were, they would tell
	// JetStream how to store the dead letter (Nats-Expected-Stream,
	// Nats-Rollup, Nats-TTL, …) and could make that publish fail.
	HeaderOrigPrefix = "Inventory-Original-"
	// HeaderTruncated lists what was cut so that the dead letter fits in
	// one message, comma-separated: "body" and "header:<name>" for each
	// shortened header value, "headers" when some headers were left out.
	HeaderTruncated = "Inventory-Truncated"
	// HeaderOrigSize is the original body's size in bytes when the body
	// was truncated.
	HeaderOrigSize = "Inventory-Original-Size"
)

// DeadLetterPartition is the partition a dead letter's subject names
// (DeadLetterSubject), or false when it is not one.
func DeadLetterPartition(subject string) (int, bool) {
	rest, ok := strings.CutPrefix(subject, root+".deadletter.")
	if !ok {
		return 0, false
	}
	p, err := strconv.Atoi(rest)
	return p, err == nil && p >= 0
}
