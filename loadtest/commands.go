package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// ModeCommands measures single POST /inventory/adjustment the way
// ModeQueries measures GETs: cfg.Concurrency clients for cfg.Duration,
// related to the ceiling measured first at the same concurrency, and with
// nothing else running in the load tool meanwhile. Ingest over HTTP times
// "applied end to end" with a KV watch of every view bucket while it
// posts, which costs CPU on both sides of the same cores while the
// ceiling runs without it, so its ratio to healthz is skewed; here the
// view is checked only after the run, by reading each written key once
// its commands are all answered.
const ModeCommands Mode = "commands"

// commands runs cfg.Concurrency clients posting single adjustments for
// cfg.Duration, then waits (at most cfg.Timeout) until the view of every
// key written reflects the highest sequence acknowledged for it.
func (t *target) commands(ctx context.Context, cfg Config, progress io.Writer) (Section, error) {
	sec := Section{Mode: ModeCommands, Via: ViaHTTP, Settings: fmt.Sprintf("POST /inventory/adjustment concurrency=%d duration=%v keys=%d %s",
		cfg.Concurrency, cfg.Duration, cfg.Keys, keyOrder(cfg))}
	ks := newKeySet(cfg.Prefix, cfg.Keys)
	draw := &sharedPicker{p: generatorFor(cfg, cfg.Seed+3).p}
	acked := newAckedSeqs(ks.len())

	b := newBar(progress, int64(cfg.Duration/time.Second), fmt.Sprintf("commands, seconds of %v", cfg.Duration), "s")
	var lat latencies
	var ok, failed atomic.Int64
	var errMu sync.Mutex
	var firstErr error
	b.rateOf("commands", ok.Load)
	// The deadline stops new requests only: one in flight is answered, not
	// cut off, so every command the server stored is either counted as
	// acked or as an error, never lost between the two.
	deadline := time.Now().Add(cfg.Duration)
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			for !stop.Load() && ctx.Err() == nil && time.Now().Before(deadline) {
				k, count := draw.next()
				t0 := time.Now()
				seq, err := t.http.post(ctx, sellable.Adjustment, ks.keys[k], count)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					if failed.Add(1) > int64(maxFailures(int(ok.Load()))) {
						stop.Store(true) // the system is down: do not spend the run on errors
					}
					continue
				}
				lat.add(time.Since(t0))
				ok.Add(1)
				acked.add(k, seq)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	for running := true; running; {
		select {
		case <-tick.C:
			b.add(1)
		case <-done:
			running = false
		}
	}
	tick.Stop()
	elapsed := time.Since(start)
	b.finish()
	if ctx.Err() != nil {
		return sec, ctx.Err()
	}
	n := int(ok.Load())
	sec.httpRate("commands", rate(n, elapsed))
	sec.httpLatency("POST→201", lat.summary(), true)
	sec.count("commands acked", n)
	sec.count("errors", int(failed.Load()))
	sec.count("keys written", acked.keys())
	if stop.Load() {
		return sec, fmt.Errorf("%w (%d acked, %d failed; first failure: %v)", errTooManyErrors, n, failed.Load(), firstErr)
	}
	if firstErr != nil {
		sec.Error = "first error: " + firstErr.Error()
	}

	// Only now look at the view: the figure above is of commands the
	// server stored durably, and this says they were also applied.
	var wb *bar
	if n := acked.keys(); n > 0 {
		wb = newBar(progress, int64(n), "  view catching up", "keys")
	}
	took, err := t.applied(ctx, ks, acked, cfg.Timeout, cfg.Concurrency, wb)
	wb.finish()
	if err != nil {
		return sec, err
	}
	sec.count("applied after the run", n)
	sec.add("time to apply after the run", took.Seconds(), Seconds)
	return sec, nil
}

// sharedPicker draws keys and counts for every client from one sequence,
// as the other modes' single generator does (so --sequential still writes
// each key once before any again).
type sharedPicker struct {
	mu sync.Mutex
	p  *picker
}

// next is a key index and an adjustment count of 1..10.
func (s *sharedPicker) next() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p.next(), 1 + s.p.r.Int64N(10)
}

// ackedSeqs is the highest acknowledged sequence per key; safe for
// concurrent use.
type ackedSeqs struct{ seq []atomic.Uint64 }

func newAckedSeqs(n int) *ackedSeqs { return &ackedSeqs{seq: make([]atomic.Uint64, n)} }

func (a *ackedSeqs) add(k int, seq uint64) {
	s := &a.seq[k]
	for {
		old := s.Load()
		if seq <= old || s.CompareAndSwap(old, seq) {
			return
		}
	}
}

// keys counts the keys with at least one acked command.
func (a *ackedSeqs) keys() int {
	n := 0
	for i := range a.seq {
		if a.seq[i].Load() > 0 {
			n++
		}
	}
	return n
}

// applied reads every key with acked commands from its view bucket,
// again and again until its value's seq reaches the highest acked one,
// and returns how long that took; conc reads are in flight at once. It
// fails at timeout naming how many keys are still behind.
func (t *target) applied(ctx context.Context, ks *keySet, acked *ackedSeqs, timeout time.Duration, conc int, bar *bar) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	buckets := make([]jetstream.KeyValue, t.partitions)
	for p := range buckets {
		b, err := t.js.KeyValue(ctx, kv.BucketName(p))
		if err != nil {
			return 0, fmt.Errorf("loadtest: bucket %s: %w", kv.BucketName(p), err)
		}
		buckets[p] = b
	}
	var pending []int
	for k := range acked.seq {
		if acked.seq[k].Load() > 0 {
			pending = append(pending, k)
		}
	}
	for {
		behind, err := t.stillBehind(ctx, ks, acked, buckets, pending, conc)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return 0, fmt.Errorf("loadtest: %d keys still behind their last acked command after %v: %w", len(pending), timeout, err)
			}
			return 0, err
		}
		pending = behind
		bar.set(len(pending))
		if len(pending) == 0 {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("loadtest: %d keys still behind their last acked command after %v: %w", len(pending), timeout, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stillBehind reads each of keys once and returns those whose view does
// not yet reflect their highest acked sequence (or has no value yet).
func (t *target) stillBehind(ctx context.Context, ks *keySet, acked *ackedSeqs, buckets []jetstream.KeyValue, keys []int, conc int) ([]int, error) {
	var (
		mu     sync.Mutex
		behind []int
		errs   []error
		wg     sync.WaitGroup
	)
	jobs := make(chan int)
	for range min(conc, len(keys)) {
		wg.Go(func() {
			for k := range jobs {
				b := buckets[streams.Partition(ks.keys[k], len(buckets))]
				seq, err := viewSeq(ctx, b, ks.names[k])
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case seq < acked.seq[k].Load():
					behind = append(behind, k)
				}
				mu.Unlock()
			}
		})
	}
	for _, k := range keys {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return behind, nil
}

// viewSeq is the seq a key's view value reflects; 0 when it has none yet.
func viewSeq(ctx context.Context, b jetstream.KeyValue, name string) (uint64, error) {
	e, err := b.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("loadtest: read %s: %w", name, err)
	}
	pos, err := kv.DecodeValue(e.Value())
	if err != nil {
		return 0, fmt.Errorf("loadtest: value of %s: %w", name, err)
	}
	return pos.Seq, nil
}
