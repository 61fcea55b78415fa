package loadtest

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// barRefresh is how often a bar's rate is recomputed; the bar itself
// draws no more often.
const barRefresh = 200 * time.Millisecond

// bar is a progress bar on the progress writer; a nil *bar shows nothing.
//
// The rate is ours, not the library's: the library divides the bar's
// progress by the time, which for the queries bar (advancing once a
// second) showed seconds as requests, and it falls back to "0 keys/hr"
// before anything is done. Ours counts what the bar's rate function
// counts, per second, and shows nothing until there is something to show.
type bar struct {
	pb   *progressbar.ProgressBar
	desc string
	unit string

	mu    sync.Mutex
	start time.Time
	shown time.Time
	// count is what the rate counts: the bar's progress (own) unless
	// rateOf says otherwise.
	count func() int64
	own   bool
}

func newBar(w io.Writer, max int64, desc, unit string) *bar {
	if w == nil {
		return nil
	}
	b := &bar{desc: desc, unit: unit, start: time.Now()}
	b.pb = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(barRefresh),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(w, "\n") }),
	)
	b.count, b.own = func() int64 { return int64(b.pb.State().CurrentNum) }, true
	return b
}

// rateOf makes the bar show the rate of count, in unit per second, while
// its progress measures something else (the queries bar advances with
// the seconds of the run).
func (b *bar) rateOf(unit string, count func() int64) {
	if b != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.unit, b.count, b.own = unit, count, false
	}
}

func (b *bar) add(n int) {
	if b != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.to(int64(b.pb.State().CurrentNum) + int64(n))
	}
}

// set shows a remaining count as progress towards zero.
func (b *bar) set(remaining int) {
	if b != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.to(max(b.pb.GetMax64()-int64(remaining), 0))
	}
}

func (b *bar) finish() {
	if b != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		if !b.pb.IsFinished() {
			b.describe(true, 0)
			_ = b.pb.Finish()
		}
	}
}

// to moves the bar to done, with b.mu held (senders add concurrently).
// The rate is described first: reaching the end finishes the bar, and a
// finished bar is not drawn again.
func (b *bar) to(done int64) {
	b.describe(done >= b.pb.GetMax64(), done-int64(b.pb.State().CurrentNum))
	_ = b.pb.Set64(done)
}

// describe puts the current rate into the description, at most every
// barRefresh unless final; pending is progress about to be shown. b.mu
// is held.
func (b *bar) describe(final bool, pending int64) {
	now := time.Now()
	if !final && now.Sub(b.shown) < barRefresh {
		return
	}
	b.shown = now
	done := b.count()
	if b.own {
		done += pending
	}
	desc := b.desc
	if r := rateLabel(done, now.Sub(b.start), b.unit); r != "" {
		desc += " (" + r + ")"
	}
	b.pb.Describe(desc)
}

// rateLabel is done things in elapsed time as a rate per second, e.g.
// "12.3k ev/s", or "" while there is no rate to speak of yet (nothing
// done, or too short a time to divide by).
func rateLabel(done int64, elapsed time.Duration, unit string) string {
	if done <= 0 || elapsed < 100*time.Millisecond {
		return ""
	}
	r := float64(done) / elapsed.Seconds()
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.1fM %s/s", r/1e6, unit)
	case r >= 1e4:
		return fmt.Sprintf("%.1fk %s/s", r/1e3, unit)
	case r >= 10:
		return fmt.Sprintf("%.0f %s/s", r, unit)
	default:
		return fmt.Sprintf("%.1f %s/s", r, unit)
	}
}
