package loadtest

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRateLabel(t *testing.T) {
	for _, tc := range []struct {
		done    int64
		elapsed time.Duration
		want    string
	}{
		{0, 0, ""},
		{0, time.Hour, ""}, // nothing done yet: no "0 keys/hr"
		{5, time.Millisecond, ""},
		{3, 2 * time.Second, "1.5 ev/s"},
		{30, time.Second, "30 ev/s"},
		{9999, time.Second, "9999 ev/s"},
		{123456, 2 * time.Second, "61.7k ev/s"},
		{3_000_000, time.Second, "3.0M ev/s"},
	} {
		if got := rateLabel(tc.done, tc.elapsed, "ev"); got != tc.want {
			t.Errorf("rateLabel(%d, %v) = %q, want %q", tc.done, tc.elapsed, got, tc.want)
		}
	}
}

// The queries bar advances once a second; it used to show those seconds
// as its rate ("1 s/s"). Its rate is the queries answered.
func TestQueriesBarShowsQueriesPerSecond(t *testing.T) {
	var out bytes.Buffer
	b := newBar(&out, 10, "queries", "s")
	b.start = time.Now().Add(-10 * time.Second)
	b.rateOf("queries", func() int64 { return 50_000 })
	b.add(10)
	b.finish()
	if !regexp.MustCompile(`\(5000 queries/s\)`).MatchString(out.String()) {
		t.Fatalf("queries bar does not show the query rate:\n%q", out.String())
	}
	if regexp.MustCompile(`\d s/s`).MatchString(out.String()) {
		t.Fatalf("queries bar shows seconds as its rate:\n%q", out.String())
	}
}

// A bar that starts with nothing done (the view catching up) used to
// read "0 keys/hr".
func TestBarShowsNoRateBeforeProgress(t *testing.T) {
	var out bytes.Buffer
	b := newBar(&out, 100, "  view catching up", "keys")
	b.set(100)
	b.finish()
	if s := out.String(); strings.Contains(s, "/hr") || strings.Contains(s, "keys/s") {
		t.Fatalf("bar shows a rate before any progress:\n%q", s)
	}
}

// Senders add to one bar at once; none of their progress is lost.
func TestBarCountsConcurrentAdds(t *testing.T) {
	var out bytes.Buffer
	b := newBar(&out, 8000, "ingest", "ev")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				b.add(1)
			}
		})
	}
	wg.Wait()
	if got := b.pb.State().CurrentNum; got != 8000 {
		t.Fatalf("bar at %d after 8000 adds", got)
	}
	if !b.pb.IsFinished() {
		t.Fatal("bar not finished at its end")
	}
}
