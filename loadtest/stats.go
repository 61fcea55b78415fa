package loadtest

import (
	"math"
	"slices"
	"sync"
	"time"
)

// latencies collects samples; safe for concurrent use.
type latencies struct {
	mu      sync.Mutex
	samples []time.Duration
}

func (l *latencies) add(d time.Duration) {
	if d < 0 {
		d = 0 // the watch can deliver a hair before the ack is read
	}
	l.mu.Lock()
	l.samples = append(l.samples, d)
	l.mu.Unlock()
}

// Summary is the distribution of a set of latencies.
type Summary struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50"`
	P95   time.Duration `json:"p95"`
	P99   time.Duration `json:"p99"`
	Max   time.Duration `json:"max"`
	Mean  time.Duration `json:"mean"`
}

func (l *latencies) summary() Summary {
	l.mu.Lock()
	s := slices.Clone(l.samples)
	l.mu.Unlock()
	return summarize(s)
}

// summarize sorts s in place and reads its percentiles.
func summarize(s []time.Duration) Summary {
	if len(s) == 0 {
		return Summary{}
	}
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Summary{
		Count: len(s),
		P50:   percentile(s, 50),
		P95:   percentile(s, 95),
		P99:   percentile(s, 99),
		Max:   s[len(s)-1],
		Mean:  sum / time.Duration(len(s)),
	}
}

// percentile is the nearest-rank percentile p (0..100] of sorted s: the
// smallest sample with at least p% of the samples at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// rate is n per second over d.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// pacer spaces out operations at a rate; a zero rate never waits. When
// behind it does not wait, so the average rate holds.
type pacer struct {
	start    time.Time
	interval time.Duration
}

func newPacer(perSecond float64) pacer {
	p := pacer{start: time.Now()}
	if perSecond > 0 {
		p.interval = time.Duration(float64(time.Second) / perSecond)
	}
	return p
}

// due is when operation i should start.
func (p pacer) due(i int) time.Time {
	return p.start.Add(time.Duration(i) * p.interval)
}
