package calculator

import "sync"

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
}

func (s *Stats) add(p, applied, dead int, last uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.parts == nil {
		s.parts = make(map[int]PartitionStats)
	}
	ps := s.parts[p]
	ps.Applied += uint64(applied)
	ps.DeadLettered += uint64(dead)
	ps.LastSeq = last
	s.parts[p] = ps
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
