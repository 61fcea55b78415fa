package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ceiling measures what the HTTP server can do at all on this machine, in
// this run: cfg.Concurrency clients doing GET /healthz (no store, no
// decoding) for cfg.Duration through the same client and connection pool
// as the queries and commands. Every HTTP figure of the run is reported as
// a ratio to it (VsHealthz), the way NATS figures are a ratio to the raw
// publish of the baseline.
func (t *target) ceiling(ctx context.Context, cfg Config, progress io.Writer) (Section, error) {
	sec := Section{Mode: ModeCeiling, Settings: fmt.Sprintf("GET /healthz concurrency=%d duration=%v", cfg.Concurrency, cfg.Duration)}
	hctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	b := newBar(progress, int64(cfg.Duration/time.Second), fmt.Sprintf("healthz, seconds of %v", cfg.Duration), "s")
	var lat latencies
	var ok, failed atomic.Int64
	b.rateOf("answers", ok.Load)
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			for hctx.Err() == nil {
				t0 := time.Now()
				err := t.http.healthz(hctx)
				if hctx.Err() != nil {
					return // cut off by the end of the run, not an answer
				}
				if err != nil {
					failed.Add(1)
					continue
				}
				lat.add(time.Since(t0))
				ok.Add(1)
			}
		})
	}
	tick := time.NewTicker(time.Second)
	for hctx.Err() == nil {
		select {
		case <-tick.C:
			b.add(1)
		case <-hctx.Done():
		}
	}
	tick.Stop()
	wg.Wait()
	elapsed := time.Since(start)
	b.finish()
	if ctx.Err() != nil {
		return sec, ctx.Err()
	}
	sec.rate(ceilingRate, rate(int(ok.Load()), elapsed))
	sec.count("answered", int(ok.Load()))
	sec.count("errors", int(failed.Load()))
	sec.latency(ceilingLatency, lat.summary(), true)
	return sec, nil
}

// healthz asks the liveness route once.
func (h *httpClient) healthz(ctx context.Context) error {
	r, err := h.c.HealthzWithResponse(ctx)
	if err != nil {
		return err
	}
	if r.StatusCode() != http.StatusOK {
		return fmt.Errorf("loadtest: GET /healthz: status %d", r.StatusCode())
	}
	return nil
}
