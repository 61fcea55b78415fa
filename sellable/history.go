package sellable

import (
	"errors"
	"fmt"
	"time"
)

// History page sizes.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 500
)

// ErrHistoryLimit and ErrHistoryBefore are bad paging input.
var (
	ErrHistoryLimit  = fmt.Errorf("must be an integer from 1 to %d", MaxHistoryLimit)
	ErrHistoryBefore = errors.New("must be a positive integer, an event sequence")
)

// HistoryEntry is one stored event of a position, as its history shows
// it.
type HistoryEntry struct {
	Seq  uint64
	Time time.Time
	// Kind names the event kind: Kind's name, or for a kind this version
	// does not know, the kind token of its subject.
	Kind string
	// Decoded is false for a kind this version does not know and for a
	// body that could not be read (Err says why: it was dead-lettered and
	// never counted).
	Decoded bool
	Event   Event
	Err     error
}

// HistoryPage is up to a limit of a position's events, newest first.
// Before is what the next page asks for (the oldest Seq of this page), 0
// when there are no older events.
type HistoryPage struct {
	Entries []HistoryEntry
	Before  uint64
}
