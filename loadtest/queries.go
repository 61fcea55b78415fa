package loadtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// queries makes sure every key has a value, then runs cfg.Concurrency
// clients doing GETs of random keys for cfg.Duration, optionally while an
// ingest runs at ingestRate.
func (t *target) queries(ctx context.Context, cfg Config, ingestVia Via, ingestRate float64, progress io.Writer) (Section, error) {
	settings := fmt.Sprintf("concurrency=%d duration=%v keys=%d", cfg.Concurrency, cfg.Duration, cfg.Keys)
	if ingestRate > 0 {
		settings += fmt.Sprintf(" with ingest via %s at %g/s", ingestVia, ingestRate)
	}
	sec := Section{Mode: ModeQueries, Settings: settings}
	ks := newKeySet(cfg.Prefix, cfg.Keys)
	if err := t.seed(ctx, cfg, ks, progress); err != nil {
		return sec, err
	}

	qctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var ingest sendStats
	var ingestErr error
	var iwg sync.WaitGroup
	if ingestRate > 0 {
		iwg.Go(func() {
			ingest, ingestErr = t.drive(qctx, driveOpts{
				via: ingestVia, n: eventsFor(ingestRate, cfg.Duration), rate: ingestRate,
				src: generatorFor(cfg, cfg.Seed+2), keys: ks,
				conc: cfg.Concurrency, window: cfg.Window,
			})
		})
	}

	// The bar advances with the seconds of the run; its rate is answers.
	b := newBar(progress, int64(cfg.Duration/time.Second), fmt.Sprintf("queries, seconds of %v", cfg.Duration), "s")
	var lat latencies
	var ok, failed atomic.Int64
	b.rateOf("queries", ok.Load)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range cfg.Concurrency {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(cfg.Seed, uint64(w)))
			for qctx.Err() == nil {
				k := ks.keys[rnd.IntN(ks.len())]
				t0 := time.Now()
				seq, err := t.http.get(qctx, k)
				if qctx.Err() != nil {
					return // cut off by the end of the run, not an answer
				}
				if err != nil || seq == 0 {
					failed.Add(1)
					continue
				}
				lat.add(time.Since(t0))
				ok.Add(1)
			}
		})
	}
	tick := time.NewTicker(time.Second)
	for qctx.Err() == nil {
		select {
		case <-tick.C:
			b.add(1)
		case <-qctx.Done():
		}
	}
	tick.Stop()
	wg.Wait()
	elapsed := time.Since(start)
	b.finish()
	iwg.Wait()
	if ctx.Err() != nil {
		return sec, ctx.Err()
	}
	sec.httpRate("queries", rate(int(ok.Load()), elapsed))
	sec.count("answered", int(ok.Load()))
	sec.count("errors or 404", int(failed.Load()))
	sec.httpLatency("GET", lat.summary(), true)
	if ingestRate > 0 {
		sec.rate("ingest accepted meanwhile", rate(ingest.acked, elapsed))
		sec.count("ingest send errors", ingest.failed)
		if ingestErr != nil && qctx.Err() == nil {
			sec.Error = ingestErr.Error()
		}
	}
	return sec, nil
}

// seed gives every key a value, over NATS, and waits until all show.
func (t *target) seed(ctx context.Context, cfg Config, ks *keySet, progress io.Writer) error {
	v, err := watchView(ctx, t.js, t.partitions, ks)
	if err != nil {
		return err
	}
	defer v.close()
	b := newBar(progress, int64(ks.len()), "seeding keys", "keys")
	st, err := t.drive(ctx, driveOpts{
		via: ViaNATS, n: ks.len(), src: &seeder{}, keys: ks, conc: cfg.Concurrency, window: cfg.Window,
		onAck: func(a ack) { v.track(a, false) }, bar: b,
	})
	b.finish()
	if err != nil {
		return sendError(err, st)
	}
	_, err = v.wait(ctx, cfg.Timeout, nil)
	return err
}
