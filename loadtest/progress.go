package loadtest

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// bar is a progress bar on the progress writer; a nil *bar shows nothing.
type bar struct {
	pb *progressbar.ProgressBar
}

func newBar(w io.Writer, max int64, desc, unit string) *bar {
	if w == nil {
		return nil
	}
	return &bar{pb: progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(w, "\n") }),
	)}
}

func (b *bar) add(n int) {
	if b != nil {
		_ = b.pb.Add(n)
	}
}

// set shows a remaining count as progress towards zero.
func (b *bar) set(remaining int) {
	if b != nil {
		_ = b.pb.Set64(max(b.pb.GetMax64()-int64(remaining), 0))
	}
}

func (b *bar) finish() {
	if b != nil && !b.pb.IsFinished() {
		_ = b.pb.Finish()
	}
}
