package loadtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sellable/inventory/sellable"
)

// DefaultFreshnessRate is the rate of the freshness mode without --rate.
const DefaultFreshnessRate = 1000

// maxVerifying bounds the HTTP samples being polled at once.
const maxVerifying = 64

// freshness publishes at a fixed rate for cfg.Duration and measures, per
// event, the time from its publish ack to the KV watch delivering a value
// that reflects it. One in cfg.VerifyHTTPEvery events goes instead as an
// HTTP POST whose position is polled with GET until it shows: POST to
// visible through the API, as a client sees it. Meanwhile it samples the
// server's RSS and heap from /metrics (memory.go), so that a long run
// shows whether memory levels off.
func (t *target) freshness(ctx context.Context, cfg Config, via Via, r float64, progress io.Writer) (Section, error) {
	total := eventsFor(r, cfg.Duration)
	nVerify := 0
	if cfg.VerifyHTTPEvery > 0 {
		nVerify = total / cfg.VerifyHTTPEvery
	}
	nMain := total - nVerify
	sec := Section{Mode: ModeFreshness, Via: via, Settings: fmt.Sprintf("rate=%g/s duration=%v keys=%d skew=%g verify-http=1/%d",
		r, cfg.Duration, cfg.Keys, cfg.Skew, cfg.VerifyHTTPEvery)}
	ks := newKeySet(cfg.Prefix, cfg.Keys)
	v, err := watchView(ctx, t.js, t.partitions, ks)
	if err != nil {
		return sec, err
	}
	defer v.close()

	vctx, vcancel := context.WithTimeout(ctx, cfg.Duration+cfg.Timeout)
	defer vcancel()
	vr := &verifyResult{}
	var vwg sync.WaitGroup
	if nVerify > 0 {
		vwg.Go(func() { t.verifyHTTP(vctx, cfg, ks, nVerify, r*float64(nVerify)/float64(total), vr) })
	}

	mem := startMemSampler(ctx, t.http, memSampleEvery(cfg.Duration))
	b := newBar(progress, int64(nMain), fmt.Sprintf("freshness via %s at %g/s", via, r), "ev")
	st, err := t.drive(ctx, driveOpts{
		via: via, n: nMain, rate: r * float64(nMain) / float64(total),
		src: generatorFor(cfg, cfg.Seed+1), keys: ks,
		conc: cfg.Concurrency, window: cfg.Window, bar: b,
		onAck: func(a ack) { v.track(a, true) },
	})
	b.finish()
	samples, memErrs := mem.stop()
	if err != nil {
		vcancel()
		vwg.Wait()
		return sec, sendError(err, st)
	}
	if _, err := v.wait(ctx, cfg.Timeout, nil); err != nil {
		vcancel()
		vwg.Wait()
		return sec, err
	}
	vwg.Wait()
	sent := st.lastAck.Sub(st.start)
	sec.rate("offered", r)
	sec.rate("accepted", rate(st.acked+vr.ok, sent))
	sec.count("events acked", st.acked)
	sec.latency("ack→visible", v.ackVisible.summary(), true)
	sec.latency("ack→stored in kv", v.ackStored.summary(), false)
	sec.latency("publish→visible", v.pubVisible.summary(), false)
	sec.latency("send→ack", st.ackLatency, false)
	sec.addMemory(samples, memErrs)
	if nVerify > 0 {
		pv := vr.postVisible.summary()
		sec.count("http samples", pv.Count)
		sec.latency("POST→visible (GET)", pv, true)
		sec.latency("POST→201", vr.post.summary(), false)
		sec.count("http samples skipped (too many polling)", vr.skipped)
		sec.count("http sample errors", vr.errors)
	}
	return sec, nil
}

type verifyResult struct {
	postVisible, post latencies
	ok                int
	skipped, errors   int
}

// verifyHTTP sends n commands over HTTP at r per second on random keys
// and polls each position with GET until its sequence is reached.
func (t *target) verifyHTTP(ctx context.Context, cfg Config, ks *keySet, n int, r float64, res *verifyResult) {
	rnd := rand.New(rand.NewPCG(cfg.Seed, 7))
	sem := make(chan struct{}, maxVerifying)
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	p := newPacer(r)
	for i := range n {
		if sleepUntil(ctx, p.due(i)) != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			res.skipped++
			continue
		}
		k := ks.keys[rnd.IntN(ks.len())]
		wg.Go(func() {
			defer func() { <-sem }()
			start := time.Now()
			seq, err := t.http.post(ctx, sellable.Adjustment, k, 1)
			if err != nil {
				failed.Add(1)
				return
			}
			res.post.add(time.Since(start))
			ok.Add(1)
			for {
				got, err := t.http.get(ctx, k)
				if err == nil && got >= seq {
					res.postVisible.add(time.Since(start))
					return
				}
				if sleepUntil(ctx, time.Now().Add(cfg.VerifyPoll)) != nil {
					failed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	res.ok, res.errors = int(ok.Load()), int(failed.Load())
}
