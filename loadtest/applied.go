package loadtest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sellable/inventory/streams"
)

// applied follows a run to the calculator's own completion signal
// (Until = UntilStatus): per partition the highest event sequence
// acknowledged to us, against the lastSeq GET /calculator/status reports
// for it. A partition's lastSeq moves once a batch's view writes are
// stored, so when every partition is at or past its highest acked event,
// every event is applied and visible to a KV get. Unlike the view watch
// it costs the server nothing per change, which at a million keys (one
// KV update per event, each delivered to the watch) is a large share of
// what the server does; it says nothing about single keys, so freshness
// still uses the watch.
type applied struct {
	http *httpClient
	part []int // partition of each key of the key set

	mu   sync.Mutex
	want []uint64 // highest acked seq per partition
}

func newApplied(h *httpClient, ks *keySet, partitions int) *applied {
	a := &applied{http: h, part: make([]int, ks.len()), want: make([]uint64, partitions)}
	for i, k := range ks.keys {
		a.part[i] = streams.Partition(k, partitions)
	}
	return a
}

// track records an acknowledged event (from any of the drive's goroutines).
func (a *applied) track(ack ack) {
	p := a.part[ack.ev.key]
	a.mu.Lock()
	a.want[p] = max(a.want[p], ack.seq)
	a.mu.Unlock()
}

// check is an error when the status cannot be read, which happens when
// the target serves no calculator (a split deployment's command API):
// said before anything is published.
func (a *applied) check(ctx context.Context) error {
	_, err := a.behind(ctx)
	return err
}

// behind counts the partitions whose calculator has not reached their
// highest acked event.
func (a *applied) behind(ctx context.Context) (int, error) {
	last, err := a.http.lastSeqs(ctx)
	if err != nil {
		return 0, fmt.Errorf("loadtest: --until status needs GET /calculator/status on the --http target (the all-in-one or a calculator): %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for p, w := range a.want {
		if w > 0 && last[p] < w {
			n++
		}
	}
	return n, nil
}

// wait polls the status until every partition is applied, returning
// when the poll saw it (within one poll interval of the truth).
func (a *applied) wait(ctx context.Context, timeout time.Duration, bar *bar) (time.Time, error) {
	if err := pollCaughtUp(ctx, timeout, bar, "partitions", a.behind); err != nil {
		return time.Time{}, err
	}
	return time.Now(), nil
}

// lastSeqs is the lastSeq of every partition the calculator at the
// HTTP target reports, by partition number.
func (h *httpClient) lastSeqs(ctx context.Context) (map[int]uint64, error) {
	r, err := h.c.CalculatorStatusWithResponse(ctx)
	if err != nil {
		return nil, err
	}
	if r.JSON200 == nil {
		return nil, fmt.Errorf("status %d", r.StatusCode())
	}
	if r.JSON200.Stats == nil {
		return map[int]uint64{}, nil
	}
	out := make(map[int]uint64, len(*r.JSON200.Stats))
	for k, s := range *r.JSON200.Stats {
		p, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("partition %q: %w", k, err)
		}
		out[p] = uint64(max(s.LastSeq, 0))
	}
	return out, nil
}
