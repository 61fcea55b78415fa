package loadtest

import (
	"context"
	"fmt"
	"io"
	"time"
)

// ingest sends cfg.Events events over cfg.Keys keys as fast as the
// window allows (or at cfg.Rate) and measures events accepted per second
// (acks) and applied per second (until every key's view reflects its
// last event, or with UntilStatus every partition's calculator reports
// it, counted from the first publish).
func (t *target) ingest(ctx context.Context, cfg Config, via Via, progress io.Writer) (Section, error) {
	sec := Section{Mode: ModeIngest, Via: via, Settings: fmt.Sprintf("events=%d keys=%d %s rate=%s %s",
		cfg.Events, cfg.Keys, keyOrder(cfg), rateSetting(cfg.Rate), inflightSetting(via, cfg))}
	if via == ViaNATS {
		sec.Settings += " format=" + string(cfg.Format)
	}
	sec.Settings += " until=" + string(cfg.Until)
	ks := newKeySet(cfg.Prefix, cfg.Keys)
	var v *view
	var a *applied
	onAck := func(ack ack) { v.track(ack, false) }
	if cfg.Until == UntilStatus {
		a = newApplied(t.http, ks, t.partitions)
		if err := a.check(ctx); err != nil {
			return sec, err
		}
		onAck = a.track
	} else {
		var err error
		if v, err = watchView(ctx, t.js, t.partitions, ks); err != nil {
			return sec, err
		}
		defer v.close()
	}

	b := newBar(progress, int64(cfg.Events), "ingest via "+string(via), "ev")
	st, err := t.drive(ctx, driveOpts{
		via: via, n: cfg.Events, rate: cfg.Rate, src: generatorFor(cfg, cfg.Seed), keys: ks,
		conc: cfg.Concurrency, batch: cfg.Batch, window: cfg.Window, bar: b,
		onAck: onAck,
	})
	b.finish()
	if err != nil {
		return sec, sendError(err, st)
	}
	var done time.Time
	if a != nil {
		wb := newBar(progress, int64(t.partitions), "  calculator catching up", "partitions")
		done, err = a.wait(ctx, cfg.Timeout, wb)
		wb.finish()
	} else {
		var wb *bar
		if n := v.behind(); n > 0 {
			wb = newBar(progress, int64(n), "  view catching up", "keys")
		}
		done, err = v.wait(ctx, cfg.Timeout, wb)
		wb.finish()
	}
	if err != nil {
		return sec, err
	}
	accepted := st.lastAck.Sub(st.start)
	applied := done.Sub(st.start)
	sec.count("events acked", st.acked)
	sec.count("send errors", st.failed)
	overHTTP := via == ViaHTTP // command POSTs: related to the ceiling too
	rateOf := sec.rate
	latencyOf := sec.latency
	if overHTTP {
		rateOf, latencyOf = sec.httpRate, sec.httpLatency
	}
	rateOf("accepted", rate(st.acked, accepted))
	rateOf("applied end to end", rate(st.acked, applied))
	sec.add("publish time", accepted.Seconds(), Seconds)
	sec.add("apply time", applied.Seconds(), Seconds)
	sec.add("view lag after last ack", max(done.Sub(st.lastAck), 0).Seconds(), Seconds)
	latencyOf("send→ack", st.ackLatency, false)
	if v != nil {
		sec.add("hottest key share", v.hottest(), Ratio)
		sec.count("kv updates seen", int(v.updates.Load()))
	}
	return sec, nil
}

// sendError describes a drive that could not complete.
func sendError(err error, st sendStats) error {
	if st.firstErr != nil {
		return fmt.Errorf("%w (%d sent, %d failed; first failure: %v)", err, st.sent, st.failed, st.firstErr)
	}
	return err
}

func rateSetting(r float64) string {
	if r <= 0 {
		return "max"
	}
	return fmt.Sprintf("%g/s", r)
}

func inflightSetting(via Via, cfg Config) string {
	if via == ViaHTTP {
		return fmt.Sprintf("concurrency=%d batch=%d", cfg.Concurrency, cfg.Batch)
	}
	return fmt.Sprintf("window=%d", cfg.Window)
}

// eventsFor is the number of events at r per second over d.
func eventsFor(r float64, d time.Duration) int {
	return max(int(r*d.Seconds()), 1)
}

// keyOrder says how keys were drawn.
func keyOrder(cfg Config) string {
	if cfg.Sequential {
		return "keys-in-order"
	}
	return fmt.Sprintf("skew=%g", cfg.Skew)
}
