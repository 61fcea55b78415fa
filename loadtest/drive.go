package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// source yields the events to send, from one goroutine.
type source interface{ next() event }

// seeder yields one adjustment of 1 for every key, in order.
type seeder struct{ i int }

func (s *seeder) next() event {
	e := event{key: s.i, kind: sellable.Adjustment, count: 1}
	s.i++
	return e
}

// ack is one event the system stored: its stream sequence, when it was
// sent and when its acknowledgement was read.
type ack struct {
	ev           event
	seq          uint64
	pubAt, ackAt time.Time
}

// sendStats is what a drive did.
type sendStats struct {
	sent, acked, failed int
	firstErr            error
	start, lastAck      time.Time
	ackLatency          Summary // send to ack: HTTP request time, or publish to ack over NATS
}

// driveOpts is one stream of events.
type driveOpts struct {
	via    Via
	n      int
	rate   float64 // per second; 0 is as fast as the window allows
	src    source
	keys   *keySet
	conc   int // HTTP requests in flight
	batch  int // commands per HTTP request; 0 or 1 is single commands
	window int // NATS publishes awaiting their ack
	onAck  func(ack)
	bar    *bar
}

// maxFailures stops a drive that keeps failing (the system is down)
// instead of spending its whole count on errors.
func maxFailures(n int) int { return 100 + n/100 }

// drive sends o.n events and calls onAck for each stored one, possibly
// from several goroutines. It returns when every send has been answered
// or ctx ends.
func (t *target) drive(ctx context.Context, o driveOpts) (sendStats, error) {
	if o.via == ViaHTTP {
		return t.driveHTTP(ctx, o)
	}
	return t.driveNATS(ctx, o)
}

type tally struct {
	n        int
	mu       sync.Mutex
	st       sendStats
	lat      latencies
	failures atomic.Int64
}

func (ty *tally) ok(o driveOpts, a ack) {
	ty.lat.add(a.ackAt.Sub(a.pubAt))
	ty.mu.Lock()
	ty.st.acked++
	if a.ackAt.After(ty.st.lastAck) {
		ty.st.lastAck = a.ackAt
	}
	ty.mu.Unlock()
	if o.onAck != nil {
		o.onAck(a)
	}
	o.bar.add(1)
}

// fail counts a failed send and reports whether the drive should stop.
func (ty *tally) fail(o driveOpts, err error) bool {
	ty.mu.Lock()
	ty.st.failed++
	if ty.st.firstErr == nil {
		ty.st.firstErr = err
	}
	ty.mu.Unlock()
	o.bar.add(1)
	return ty.failures.Add(1) > int64(maxFailures(ty.n))
}

func (ty *tally) result(ctx context.Context) (sendStats, error) {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	ty.st.ackLatency = ty.lat.summary()
	if ty.failures.Load() > int64(maxFailures(ty.n)) {
		return ty.st, errTooManyErrors
	}
	return ty.st, ctx.Err()
}

func (t *target) driveHTTP(ctx context.Context, o driveOpts) (sendStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ty := &tally{n: o.n}
	jobs := make(chan event, o.conc*max(o.batch, 1))
	var wg sync.WaitGroup
	for range o.conc {
		wg.Go(func() {
			for ev := range jobs {
				evs := gather(jobs, ev, o.batch)
				pubAt := time.Now()
				seqs, err := t.http.send(ctx, o.keys, evs)
				if err != nil {
					for range evs {
						if ctx.Err() == nil && ty.fail(o, err) {
							cancel()
						}
					}
					continue
				}
				for i, ev := range evs {
					ty.ok(o, ack{ev: ev, seq: seqs[i], pubAt: pubAt, ackAt: time.Now()})
				}
			}
		})
	}
	p := newPacer(o.rate)
	ty.st.start = p.start
	for i := range o.n {
		if sleepUntil(ctx, p.due(i)) != nil {
			break
		}
		ev := o.src.next()
		select {
		case jobs <- ev:
			ty.st.sent++
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	return ty.result(ctx)
}

// gather is first plus whatever else is waiting, up to n events.
func gather(jobs <-chan event, first event, n int) []event {
	evs := []event{first}
	for len(evs) < n {
		select {
		case ev, ok := <-jobs:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		default:
			return evs
		}
	}
	return evs
}

type flight struct {
	ev    event
	pubAt time.Time
	f     jetstream.PubAckFuture
}

func (t *target) driveNATS(ctx context.Context, o driveOpts) (sendStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ty := &tally{n: o.n}
	// The channel is the window: a publish waits for room, and the reader
	// makes room as acks arrive, in publish order.
	flights := make(chan flight, o.window)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for fl := range flights {
			select {
			case pa := <-fl.f.Ok():
				ty.ok(o, ack{ev: fl.ev, seq: pa.Sequence, pubAt: fl.pubAt, ackAt: time.Now()})
			case err := <-fl.f.Err():
				if ty.fail(o, err) {
					cancel()
				}
			case <-ctx.Done():
				for range flights { // let the publisher finish
				}
				return
			}
		}
	}()
	p := newPacer(o.rate)
	ty.st.start = p.start
	for i := range o.n {
		if sleepUntil(ctx, p.due(i)) != nil {
			break
		}
		ev := o.src.next()
		k := o.keys.keys[ev.key]
		msg, err := t.eventMsg(ev.kind, k, ev.count)
		if err != nil {
			return ty.st, err
		}
		pubAt := time.Now()
		f, err := t.js.PublishMsgAsync(msg)
		if err != nil {
			if ty.fail(o, err) {
				break
			}
			continue
		}
		ty.st.sent++
		select {
		case flights <- flight{ev: ev, pubAt: pubAt, f: f}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(flights)
	<-done
	return ty.result(ctx)
}

// eventMsg is the message that records an event over NATS in the run's
// format: a JSON body alone (as `nats pub`), or an Avro body with its
// Content-Type header (as command.Service publishes).
func (t *target) eventMsg(kind sellable.Kind, k sellable.Key, count int64) (*nats.Msg, error) {
	data, err := t.events.EncodeEvent(sellable.Event{Kind: kind, Key: k, Count: count})
	if err != nil {
		return nil, fmt.Errorf("loadtest: encode event: %w", err)
	}
	m := &nats.Msg{Subject: streams.EventSubject(kind, k), Data: data}
	if ct := t.events.ContentType(); ct != wire.ContentTypeJSON {
		m.Header = nats.Header{streams.HeaderContentType: []string{ct}}
	}
	return m, nil
}
