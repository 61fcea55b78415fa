package calculator

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sellable/inventory/metrics"
)

// Stats counts what the partitions of this instance did, and whether
// each one it holds is making progress.
type Stats struct {
	// stallAfter is Config.StallAfter; zero means the default.
	stallAfter time.Duration

	mu     sync.Mutex
	parts  map[int]PartitionStats
	health map[int]*health
}

// PartitionStats is what one partition applied while owned here.
type PartitionStats struct {
	Applied      uint64 `json:"applied"`
	DeadLettered uint64 `json:"deadLettered"`
	// LastSeq is the last event stream sequence processed.
	LastSeq uint64 `json:"lastSeq"`
	// Lag is how many events of the partition were stored but not yet
	// processed when the last batch was.
	Lag uint64 `json:"lag"`
	// Restarts counts the times its worker was started again after it
	// failed.
	Restarts uint64 `json:"restarts"`
	// Stalled is true while the partition cannot make progress (see
	// Config.StallAfter); StalledSince and StalledReason say since when
	// and why.
	Stalled       bool       `json:"stalled"`
	StalledSince  *time.Time `json:"stalledSince,omitempty"`
	StalledReason string     `json:"stalledReason,omitempty"`
	// LastError is why its worker last failed.
	LastError string `json:"lastError,omitempty"`
}

// Stall is a partition held here that cannot make progress.
type Stall struct {
	Partition int
	Since     time.Time
	Reason    string
}

// health follows one partition held by this instance, to tell a worker
// that makes progress from one that cannot.
type health struct {
	runSince   time.Time // start of the current run; zero between runs
	batchSince time.Time // start of the batch in process; zero between batches
	through    uint64    // highest sequence done
	// failures counts the runs in a row that failed soon after they
	// started (within stallAfter) without moving through.
	failures     int
	failingSince time.Time
	lastErr      string
	restarts     uint64
}

func (s *Stats) add(p, applied, dead int, last, lag uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.parts == nil {
		s.parts = make(map[int]PartitionStats)
	}
	ps := s.parts[p]
	ps.Applied += uint64(applied)
	ps.DeadLettered += uint64(dead)
	ps.LastSeq = last
	ps.Lag = lag
	s.parts[p] = ps
	label := strconv.Itoa(p)
	metrics.EventsApplied.WithLabelValues(label).Add(float64(applied))
	metrics.EventsDeadLettered.WithLabelValues(label).Add(float64(dead))
	metrics.PartitionLag.WithLabelValues(label).Set(float64(lag))
}

// of returns p's health, creating it; s.mu must be held.
func (s *Stats) of(p int) *health {
	if s.health == nil {
		s.health = make(map[int]*health)
	}
	h, ok := s.health[p]
	if !ok {
		h = &health{}
		s.health[p] = h
	}
	return h
}

func (s *Stats) after() time.Duration {
	if s.stallAfter <= 0 {
		return defaultStallAfter
	}
	return s.stallAfter
}

// started records that p's worker began a run.
func (s *Stats) started(p int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.of(p)
	h.runSince, h.batchSince = now, time.Time{}
}

// restarted records that p's worker is started again after a failure.
func (s *Stats) restarted(p int) {
	s.mu.Lock()
	s.of(p).restarts++
	s.mu.Unlock()
	metrics.PartitionRestarts.WithLabelValues(strconv.Itoa(p)).Inc()
}

// batchBegan and batchEnded bracket the processing of one batch.
func (s *Stats) batchBegan(p int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.of(p).batchSince = now
}

func (s *Stats) batchEnded(p int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.of(p).batchSince = time.Time{}
}

// progressed records that every event of p through seq is done.
func (s *Stats) progressed(p int, through uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.of(p)
	if through > h.through {
		h.through, h.failures = through, 0
	}
}

// failed records that p's run ended with err. A run that had been up for
// stallAfter was working: its failure starts a new count.
func (s *Stats) failed(p int, err error, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.of(p)
	if h.failures == 0 || now.Sub(h.runSince) >= s.after() {
		h.failures, h.failingSince = 0, now
	}
	h.failures++
	h.lastErr = clip(err.Error(), maxDeadReason)
	h.runSince, h.batchSince = time.Time{}, time.Time{}
}

// forget drops what is known of p's progress once p is no longer held
// here: another instance reports on it now.
func (s *Stats) forget(p int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.health, p)
	metrics.PartitionStalled.WithLabelValues(strconv.Itoa(p)).Set(0)
}

// stall says whether h cannot make progress at now, since when and why:
// one batch in process for stallAfter (a decode that does not end, a
// write that never returns), or a worker that failed at least twice in a
// row without advancing and has not since run for stallAfter.
func (h *health) stall(now time.Time, after time.Duration) (bool, time.Time, string) {
	if !h.batchSince.IsZero() && now.Sub(h.batchSince) >= after {
		return true, h.batchSince, fmt.Sprintf("one batch in process for %s (bound %s)", now.Sub(h.batchSince).Round(time.Second), after)
	}
	if h.failures >= 2 && (h.runSince.IsZero() || now.Sub(h.runSince) < after) {
		return true, h.failingSince, fmt.Sprintf("failed %d times in a row without progress: %s", h.failures, h.lastErr)
	}
	return false, time.Time{}, ""
}

// Snapshot copies the counters, with the progress of every partition
// held here.
func (s *Stats) Snapshot() map[int]PartitionStats {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]PartitionStats, len(s.parts))
	for p, ps := range s.parts {
		out[p] = ps
	}
	for p, h := range s.health {
		ps := out[p]
		ps.Restarts, ps.LastError = h.restarts, h.lastErr
		if ok, since, why := h.stall(now, s.after()); ok {
			ps.Stalled, ps.StalledSince, ps.StalledReason = true, &since, why
		}
		out[p] = ps
	}
	return out
}

// stalls lists the partitions held here that cannot make progress, and
// sets the stalled gauge of every partition up to n.
func (s *Stats) stalls(n int) []Stall {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Stall
	for p := range n {
		v := 0.0
		if h, ok := s.health[p]; ok {
			if stalled, since, why := h.stall(now, s.after()); stalled {
				out = append(out, Stall{Partition: p, Since: since, Reason: why})
				v = 1
			}
		}
		metrics.PartitionStalled.WithLabelValues(strconv.Itoa(p)).Set(v)
	}
	return out
}
