package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
)

// view follows the sellable view of a run's keys through a KV watch on
// every partition bucket: per key the highest event sequence its value
// reflects, against the highest sequence acknowledged to us.
type view struct {
	ks       *keySet
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	updates  atomic.Int64
	badValue atomic.Int64

	mu          sync.Mutex
	want        []uint64    // highest acked seq per key
	seen        []uint64    // highest seq the view shows per key
	seenAt      []time.Time // when seen was delivered
	reachedAt   []time.Time // when seen last caught up with want
	events      []int       // events acked per key
	unsatisfied int         // keys with want > seen
	waiters     map[int][]waiter

	// Freshness of tracked events: ack to the watch delivering the
	// value, publish to delivery, and ack to the value being stored (the
	// KV entry's own timestamp, same host clock).
	ackVisible, pubVisible, ackStored latencies
}

type waiter struct {
	seq          uint64
	pubAt, ackAt time.Time
}

// watchView starts watching before anything is published: only updates
// are delivered, not the values already there.
func watchView(ctx context.Context, js jetstream.JetStream, partitions int, ks *keySet) (*view, error) {
	ctx, cancel := context.WithCancel(ctx)
	n := ks.len()
	v := &view{
		ks: ks, cancel: cancel,
		want: make([]uint64, n), seen: make([]uint64, n), seenAt: make([]time.Time, n),
		reachedAt: make([]time.Time, n), events: make([]int, n),
		waiters: make(map[int][]waiter),
	}
	for p := range partitions {
		b, err := js.KeyValue(ctx, kv.BucketName(p))
		if err != nil {
			v.close()
			return nil, fmt.Errorf("loadtest: bucket %s: %w", kv.BucketName(p), err)
		}
		w, err := b.WatchAll(ctx, jetstream.UpdatesOnly())
		if err != nil {
			v.close()
			return nil, fmt.Errorf("loadtest: watch %s: %w", kv.BucketName(p), err)
		}
		v.wg.Go(func() { v.follow(ctx, w) })
	}
	return v, nil
}

func (v *view) follow(ctx context.Context, w jetstream.KeyWatcher) {
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			at := time.Now()
			v.updates.Add(1)
			i, ok := v.ks.index[e.Key()]
			if !ok {
				continue // another client's key
			}
			pos, err := kv.DecodeValue(e.Value())
			if err != nil {
				v.badValue.Add(1)
				continue
			}
			v.observe(i, pos.Seq, at, e.Created())
		}
	}
}

func (v *view) close() {
	v.cancel()
	v.wg.Wait()
}

// observe records that key i's value reflects seq, delivered at.
func (v *view) observe(i int, seq uint64, at, stored time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if seq <= v.seen[i] {
		return
	}
	behind := v.want[i] > v.seen[i]
	v.seen[i], v.seenAt[i] = seq, at
	if behind && v.want[i] <= seq {
		v.unsatisfied--
		v.reachedAt[i] = at
	}
	ws := v.waiters[i]
	if len(ws) == 0 {
		return
	}
	keep := ws[:0]
	for _, w := range ws {
		if w.seq > seq {
			keep = append(keep, w)
			continue
		}
		v.ackVisible.add(at.Sub(w.ackAt))
		v.pubVisible.add(at.Sub(w.pubAt))
		v.ackStored.add(stored.Sub(w.ackAt))
	}
	if len(keep) == 0 {
		delete(v.waiters, i)
	} else {
		v.waiters[i] = keep
	}
}

// track records an acknowledged event; with fresh, its freshness is
// measured once the view shows it.
func (v *view) track(a ack, fresh bool) {
	i := a.ev.key
	v.mu.Lock()
	defer v.mu.Unlock()
	v.events[i]++
	if a.seq > v.want[i] {
		if v.want[i] <= v.seen[i] && a.seq > v.seen[i] {
			v.unsatisfied++
		}
		v.want[i] = a.seq
		if a.seq <= v.seen[i] { // shown before we read the ack
			v.reachedAt[i] = v.seenAt[i]
		}
	}
	if !fresh {
		return
	}
	if a.seq <= v.seen[i] {
		v.ackVisible.add(v.seenAt[i].Sub(a.ackAt))
		v.pubVisible.add(v.seenAt[i].Sub(a.pubAt))
		return
	}
	v.waiters[i] = append(v.waiters[i], waiter{seq: a.seq, pubAt: a.pubAt, ackAt: a.ackAt})
}

// behind counts keys whose view lags their last acked event.
func (v *view) behind() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.unsatisfied
}

// wait returns when every acked event is reflected, with the moment the
// last key caught up, or fails at the deadline naming how many lag.
func (v *view) wait(ctx context.Context, timeout time.Duration, bar *bar) (time.Time, error) {
	behind := func(context.Context) (int, error) { return v.behind(), nil }
	if err := pollCaughtUp(ctx, timeout, bar, "keys", behind); err != nil {
		return time.Time{}, err
	}
	return v.caughtUp(), nil
}

// pollCaughtUp asks behind every 2 ms until it counts none of what (keys,
// partitions) behind, showing the count on bar, or fails at the deadline
// naming how many lag. An error from behind ends the wait, unless it is
// the deadline's own.
func pollCaughtUp(ctx context.Context, timeout time.Duration, bar *bar, what string, behind func(context.Context) (int, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		n, err := behind(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		bar.set(n)
		if err == nil && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadtest: %d %s still behind their last event after %v: %w", n, what, timeout, ctx.Err())
		case <-t.C:
		}
	}
}

// caughtUp is when the last key with events caught up.
func (v *view) caughtUp() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	var last time.Time
	for i, w := range v.want {
		if w > 0 && v.reachedAt[i].After(last) {
			last = v.reachedAt[i]
		}
	}
	return last
}

// hottest is the share of tracked events on the busiest key.
func (v *view) hottest() float64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	top, sum := 0, 0
	for _, n := range v.events {
		top = max(top, n)
		sum += n
	}
	if sum == 0 {
		return 0
	}
	return float64(top) / float64(sum)
}
