package feed

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxPartitions is the most partitions a cursor may have: the event
// stream's own limit (streams.Config.Validate).
const MaxPartitions = 1024

// MaxCursorLength is the longest text a cursor of MaxPartitions parts
// can have: 20 digits each (the largest uint64) and a dot between two.
const MaxCursorLength = MaxPartitions*21 - 1

// ErrCursor means a cursor's text is not one of this feed's cursors.
var ErrCursor = errors.New("not a change id")

// Cursor is a point in the feed: for each partition of the view, the
// sequence in that partition's bucket stream of the last change read
// there (0: none), partition 0 first. Each stream orders only its own
// partition, so one number cannot say where a reader is in all of them;
// the vector can, and it only grows: every change's id is the cursor
// after it, equal to the previous id but for its own partition's
// sequence. A Cursor is not modified once it was handed out.
type Cursor []uint64

// Start is the cursor of "every position's newest value": nothing read
// in any of n partitions.
func Start(n int) Cursor { return make(Cursor, n) }

// String is the cursor's text, the SSE id: the sequences in decimal
// joined by ".", partition 0 first ("12.0.7" for three partitions).
// ParseCursor reads it back.
func (c Cursor) String() string { return string(c.Append(make([]byte, 0, len(c)*8))) }

// Append appends the cursor's text to b.
func (c Cursor) Append(b []byte) []byte {
	for i, s := range c {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, s, 10)
	}
	return b
}

// With is c with partition p's sequence set to seq, a new cursor; c is
// left as it is, since a handed-out cursor may be shared.
func (c Cursor) With(p int, seq uint64) Cursor {
	out := make(Cursor, len(c))
	copy(out, c)
	out[p] = seq
	return out
}

// Covers reports whether c is at or past o in every partition.
func (c Cursor) Covers(o Cursor) bool {
	for i := range o {
		if c[i] < o[i] {
			return false
		}
	}
	return true
}

// ParseCursor reads the text of a cursor of n partitions, as String
// writes it; "0", the start, is also read as n zeros, so that
// lastEventId=0 means what it always meant. Anything else (a count of
// parts other than n, an empty part, a sign, a space, a leading zero, a
// number over 2^64-1, text longer than any cursor) is an error wrapping
// ErrCursor that says what is wrong, for a client to read.
func ParseCursor(s string, n int) (Cursor, error) {
	if n < 1 || n > MaxPartitions {
		return nil, fmt.Errorf("feed: %d partitions not in 1..%d", n, MaxPartitions)
	}
	if s == "0" {
		return Start(n), nil
	}
	// Checked before counting, so that hostile text costs nothing more.
	if len(s) > n*21-1 {
		return nil, fmt.Errorf("%w: %d characters, longer than any id of this feed (%d numbers joined by \".\")", ErrCursor, len(s), n)
	}
	if parts := strings.Count(s, ".") + 1; parts != n {
		hint := ""
		if parts == 1 {
			// Most likely an id of the feed before ids were cursors.
			hint = " (a single number is an id of the earlier feed on one stream: start again with 0)"
		}
		return nil, fmt.Errorf("%w: %d number(s), this feed's ids have %d joined by \".\" (one per partition), or are 0 for the start%s", ErrCursor, parts, n, hint)
	}
	c := make(Cursor, n)
	for i := range c {
		part, rest, _ := strings.Cut(s, ".")
		s = rest
		if part == "" {
			return nil, fmt.Errorf("%w: number %d is empty", ErrCursor, i+1)
		}
		for j := 0; j < len(part); j++ {
			if part[j] < '0' || part[j] > '9' {
				return nil, fmt.Errorf("%w: number %d is not a non-negative decimal integer", ErrCursor, i+1)
			}
		}
		if len(part) > 1 && part[0] == '0' {
			return nil, fmt.Errorf("%w: number %d has a leading zero", ErrCursor, i+1)
		}
		v, err := strconv.ParseUint(part, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: number %d is larger than %d", ErrCursor, i+1, uint64(1<<64-1))
		}
		c[i] = v
	}
	return c, nil
}
