package streams

import "errors"

var (
	// ErrBadToken means a subject token or KV key is not an encoded identifier.
	ErrBadToken = errors.New("not an encoded identifier")
	// ErrBadSubject means a subject does not have the shape of an event subject.
	ErrBadSubject = errors.New("not an inventory event subject")
	// ErrBadCount means an event's count is missing, zero where it must not
	// be, of the wrong sign or out of range.
	ErrBadCount = errors.New("invalid count")
)

// ErrPartitionCount means the event stream exists with another partition
// count than configured, or with no partition transform at all.
var ErrPartitionCount = errors.New("partition count mismatch")

// ErrSubjects means a stream exists with other subjects than this version
// publishes to and lacks some of its subjects (an upgrade that only adds
// subjects is applied by Ensure).
var ErrSubjects = errors.New("stream subjects mismatch")
