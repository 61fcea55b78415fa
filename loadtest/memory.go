package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The gauges of the server's memory on /metrics (Prometheus' process and
// Go collectors). Against the all-in-one they include the embedded NATS
// server, which is what grows when it tracks message ids.
const (
	rssMetric  = "process_resident_memory_bytes"
	heapMetric = "go_memstats_heap_inuse_bytes"
)

// memSample is the server's memory at one moment of a run.
type memSample struct {
	at        time.Duration // since the run began
	rss, heap float64
}

// memSampler reads the server's memory every interval until stopped, so a
// long run shows whether memory levels off or keeps growing.
type memSampler struct {
	h       *httpClient
	every   time.Duration
	began   time.Time
	stopped chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples []memSample
	errs    int
}

// memSampleEvery is the interval of a run of d: every 5 s, or ten samples
// in a shorter run.
func memSampleEvery(d time.Duration) time.Duration {
	return max(min(5*time.Second, d/10), 10*time.Millisecond)
}

func startMemSampler(ctx context.Context, h *httpClient, every time.Duration) *memSampler {
	s := &memSampler{h: h, every: every, began: time.Now(), stopped: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		s.sample(ctx)
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.stopped:
				s.sample(ctx) // the end of the run
				return
			case <-t.C:
				s.sample(ctx)
			}
		}
	}()
	return s
}

func (s *memSampler) sample(ctx context.Context) {
	at := time.Since(s.began)
	v, err := s.h.gauges(ctx, rssMetric, heapMetric)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs++
		return
	}
	s.samples = append(s.samples, memSample{at: at, rss: v[rssMetric], heap: v[heapMetric]})
}

// stop takes a last sample and returns them all.
func (s *memSampler) stop() ([]memSample, int) {
	close(s.stopped)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples, s.errs
}

// addMemory reports the server's memory over a run: at the start, at each
// whole minute, at the end, the highest, and end ÷ 1 min, the figure that
// says whether memory stays flat once the run has warmed up (issue 15:
// within 20 % after the first minute).
func (sec *Section) addMemory(samples []memSample, errs int) {
	sec.count("memory samples", len(samples))
	if errs > 0 {
		sec.count("memory sample errors", errs)
	}
	if len(samples) == 0 {
		return
	}
	first, last := samples[0], samples[len(samples)-1]
	sec.add("server RSS at start", first.rss, Bytes)
	var maxRSS, maxHeap float64
	var atMinute memSample
	haveMinute := false
	next := time.Minute
	for _, m := range samples {
		maxRSS, maxHeap = max(maxRSS, m.rss), max(maxHeap, m.heap)
		if m.at >= next && m != last {
			if !haveMinute {
				atMinute, haveMinute = m, true
			}
			sec.add(fmt.Sprintf("server RSS at %dm", next/time.Minute), m.rss, Bytes)
			next = m.at.Truncate(time.Minute) + time.Minute
		}
	}
	sec.add("server RSS at end", last.rss, Bytes)
	sec.add("server RSS max", maxRSS, Bytes)
	sec.add("server heap in use at end", last.heap, Bytes)
	sec.add("server heap in use max", maxHeap, Bytes)
	if haveMinute && atMinute.rss > 0 {
		sec.add("server heap in use at 1m", atMinute.heap, Bytes)
		sec.add("server RSS end ÷ 1m", last.rss/atMinute.rss, Ratio)
	}
}

// gauges reads the named series from /metrics in one request; each must
// be there (unlabelled, as the process and Go collectors' are).
func (h *httpClient) gauges(ctx context.Context, names ...string) (map[string]float64, error) {
	body, err := h.metrics(ctx)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return parseGauges(body, names...)
}

// metrics is the body of the server's /metrics.
func (h *httpClient) metrics(ctx context.Context) (io.ReadCloser, error) {
	resp, err := h.c.Metrics(ctx)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("loadtest: GET /metrics: status %d", resp.StatusCode)
	}
	return resp.Body, nil
}

// parseGauges reads the named unlabelled series from the Prometheus text
// format; each must be there. A line longer than 1 MiB is an error, not
// a reason to grow without bound.
func parseGauges(r io.Reader, names ...string) (map[string]float64, error) {
	out := make(map[string]float64, len(names))
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		for _, n := range names {
			if name == n {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil {
					return nil, fmt.Errorf("loadtest: /metrics %s %q: %w", n, value, err)
				}
				out[n] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("loadtest: /metrics has no %s", n)
		}
	}
	return out, nil
}
