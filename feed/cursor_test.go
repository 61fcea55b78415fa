package feed_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sellable/inventory/feed"
)

// A cursor reads back as it was written, for any partition count and
// sequence, the largest included.
func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []feed.Cursor{
		{0}, {7}, {1<<64 - 1},
		{0, 0, 0, 0, 0, 0, 0, 0},
		{12, 0, 7, 1<<64 - 1, 1, 10, 100, 3},
		make(feed.Cursor, feed.MaxPartitions),
	} {
		text := c.String()
		got, err := feed.ParseCursor(text, len(c))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if got.String() != text || len(got) != len(c) {
			t.Errorf("%q read back as %q", text, got)
		}
	}
	if got := (feed.Cursor{12, 0, 7}).String(); got != "12.0.7" {
		t.Errorf("text %q, want 12.0.7 (partition 0 first, joined by dots)", got)
	}
}

// "0" is the start whatever the partition count; every other text that
// is not n canonical decimal numbers joined by dots is refused, saying
// what is wrong.
func TestParseCursorRefusals(t *testing.T) {
	if c, err := feed.ParseCursor("0", 4); err != nil || c.String() != "0.0.0.0" {
		t.Errorf("0: %v %v, want the start of 4 partitions", c, err)
	}
	for _, tc := range []struct{ text, says string }{
		{"", "1 number(s)"},
		{"5", "earlier feed"},        // an id of the single-stream feed
		{"1.2.3", "3 number(s)"},     // wrong count
		{"1.2.3.4.5", "5 number(s)"}, // wrong count
		{"1..3.4", "number 2 is empty"},
		{"1.2.3.", "number 4 is empty"},
		{".1.2.3", "number 1 is empty"},
		{"1.+2.3.4", "not a non-negative"},
		{"1.-2.3.4", "not a non-negative"},
		{"1. 2.3.4", "not a non-negative"},
		{"1.2.3.4 ", "not a non-negative"},
		{"1.02.3.4", "leading zero"},
		{"1.2.3.18446744073709551616", "larger than"},
		{"1.2.3.0x10", "not a non-negative"},
		{"1.2.3.٣", "not a non-negative"}, // a digit, but not ASCII
		{strings.Repeat("1", 200), "characters"},
	} {
		c, err := feed.ParseCursor(tc.text, 4)
		if !errors.Is(err, feed.ErrCursor) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%q: %v %v, want ErrCursor saying %q", tc.text, c, err, tc.says)
		}
	}
}

// Hostile text never panics, never takes long, and what parses is n
// numbers that write back to the same text (or "0", the start).
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"0", "1.2.3.4", "18446744073709551615.0.0.0", "1..2", "-1", " 1", "1.2.3.4.5", strings.Repeat("9", 100), "00.0.0.0", strings.Repeat("1.", 5000)} {
		f.Add(s, uint16(4))
	}
	f.Fuzz(func(t *testing.T, s string, n uint16) {
		parts := int(n%feed.MaxPartitions) + 1
		c, err := feed.ParseCursor(s, parts)
		if err != nil {
			if !errors.Is(err, feed.ErrCursor) {
				t.Fatalf("%q: %v does not wrap ErrCursor", s, err)
			}
			return
		}
		if len(c) != parts {
			t.Fatalf("%q: %d numbers, want %d", s, len(c), parts)
		}
		if s != "0" && c.String() != s {
			t.Fatalf("%q read as %q", s, c.String())
		}
	})
}
