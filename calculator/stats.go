package calculator

import (
	"strconv"
	"sync"

	"github.com/sellable/inventory/metrics"
)

// Stats counts what the partitions of this instance did.
type Stats struct {
	mu    sync.Mutex
	parts map[int]PartitionStats
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

// Snapshot copies the counters.
func (s *Stats) Snapshot() map[int]PartitionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]PartitionStats, len(s.parts))
	for p, ps := range s.parts {
		out[p] = ps
	}
	return out
}
