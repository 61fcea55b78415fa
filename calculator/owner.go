package calculator

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// staleOwner stands, in the owners given to assign, for a lease the view
// shows in this instance's name that it no longer holds (a hand-off whose
// purge the watch has not delivered yet): not free, and nobody's share.
// A NUL never occurs in an encoded instance id.
const staleOwner = "\x00"

// owner is the ownership loop of one instance. Its state belongs to the
// goroutine running run; workers and hand-offs report back on channels.
type owner struct {
	c      *Calculator
	leases *leases
	view   *view
	// held are the leases this instance holds, by partition, with the
	// revision of its last write; releasing are those being handed off
	// (their worker is stopping; the lease is kept until it stopped).
	held      map[int]uint64
	releasing map[int]bool
	// released receives a partition once its hand-off worker stopped.
	released chan int
	// retry is when a partition that looked free but was not may be
	// tried again.
	retry map[int]time.Time
	// interval is the heartbeat and renewal period; grace is how long a
	// partition must have been free before an instance already at its
	// floor takes it as a ceil share (see rebalance); retryDelay paces
	// acquiring a partition the server has not expired yet.
	interval, grace, retryDelay time.Duration
}

func newOwner(c *Calculator) *owner {
	ttl := c.cfg.LeaseTTL
	return &owner{
		c: c, leases: c.leases, view: newView(ttl),
		held: map[int]uint64{}, releasing: map[int]bool{},
		released: make(chan int, c.cfg.Partitions),
		retry:    map[int]time.Time{},
		interval: ttl / 4, grace: ttl / 8, retryDelay: ttl / 16,
	}
}

// run follows the bucket and acts on every change until ctx ends. It
// never waits for a partition to stop: hand-offs finish on their own
// goroutine and come back on released.
func (o *owner) run(ctx context.Context) {
	log := o.c.log
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	wake := time.NewTimer(o.interval)
	defer wake.Stop()
	o.renew(ctx) // heartbeat first, so the others count this instance
	var (
		w       jetstream.KeyWatcher
		updates <-chan jetstream.KeyValueEntry
		ready   bool // the watch delivered every current key
	)
	defer func() {
		if w != nil {
			_ = w.Stop()
		}
	}()
	for {
		if w == nil && ctx.Err() == nil {
			var err error
			if w, err = o.leases.watch(ctx); err != nil {
				log.Warn("watch leases failed", "err", err)
				w = nil
			} else {
				// Start from what the new watch delivers.
				updates, ready, o.view = w.Updates(), false, newView(o.view.ttl)
			}
		}
		select {
		case <-ctx.Done():
			return
		case e, ok := <-updates:
			if !ok {
				// The watch ended (connection closed): watch again at the
				// next tick rather than spin.
				log.Warn("lease watch ended")
				w, updates, ready = nil, nil, false
				continue
			}
			ready = o.apply(e, updates) || ready
		case <-tick.C:
			o.renew(ctx)
			o.c.stats.stalls(o.c.cfg.Partitions) // keeps the stalled gauges current
		case p := <-o.released:
			o.handedOff(ctx, p)
		case <-wake.C:
		}
		if !ready {
			continue
		}
		o.rebalance(ctx, time.Now())
		wake.Reset(o.nextWake(time.Now()))
	}
}

// apply records e and whatever else the watch has ready, so a burst of
// updates costs one rebalance; it reports whether the initial values are
// all in.
func (o *owner) apply(e jetstream.KeyValueEntry, updates <-chan jetstream.KeyValueEntry) (initDone bool) {
	now := time.Now()
	for {
		if e == nil {
			initDone = true
		} else {
			o.view.apply(e, now)
		}
		select {
		case next, ok := <-updates:
			if !ok {
				return initDone
			}
			e = next
		default:
			return initDone
		}
	}
}

// ioCtx bounds one round of requests, so a NATS outage slows the loop
// down to one interval per round instead of stalling it.
func (o *owner) ioCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.interval)
}

// renew heartbeats, renews every held lease (together: one round trip,
// not one per partition) and restarts a worker that failed.
func (o *owner) renew(parent context.Context) {
	ctx, cancel := o.ioCtx(parent)
	defer cancel()
	type result struct {
		p   int
		rev uint64
		err error
	}
	results := make(chan result, len(o.held))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := o.leases.heartbeat(ctx); err != nil {
			o.c.log.Warn("heartbeat failed", "err", err)
		}
	})
	for p, rev := range o.held {
		wg.Go(func() {
			rev, err := o.leases.renew(ctx, p, rev)
			results <- result{p, rev, err}
		})
	}
	wg.Wait()
	close(results)
	var refused []int
	for r := range results {
		switch {
		case r.err == nil:
			o.held[r.p] = r.rev
		case errors.Is(r.err, jetstream.ErrKeyRevisionMismatch):
			refused = append(refused, r.p)
		default:
			// Unknown outcome: keep the partition; the next round tells.
			o.c.log.Warn("lease renewal failed", "partition", r.p, "err", r.err)
		}
	}
	// A round of its own: the renewals may have used up theirs.
	o.recheck(parent, refused)
	for p := range o.held {
		if !o.releasing[p] && !o.c.isRunning(p) {
			o.c.stats.restarted(p)
			o.c.start(p) // the worker failed: start it again from its checkpoint
		}
	}
}

// recheck settles renewals the server refused, by asking it who holds
// each partition now (together: one round trip, not one per partition).
// On a starved machine (a busy process, a long collector pause, the
// connection's queues full of the partitions' writes) a renewal may be
// stored after its answer timed out, or none may arrive within the TTL
// at all; neither means another instance took the partition, and
// stopping the worker would restart it with an empty cache and a new
// consumer over every subject of its events. So, per partition:
//   - the lease in this instance's name at a newer revision (a renewal
//     stored whose answer was lost): keep it at that revision;
//   - no lease (it expired): take it again at once, worker untouched;
//   - another owner, or it took the free lease first: lost, stop;
//   - no answer: keep it for now; the next round tells.
//
// Keeping the worker across an expiry is safe for the same reason a
// doubled owner is (TestDoubledOwnerAppliesEachEventOnce): the view's
// writes are compare-and-set with per-key sequences, so a worker whose
// cache another owner's writes made stale fails its write and reads
// again; the lease only keeps owners from duplicating work.
func (o *owner) recheck(ctx context.Context, refused []int) {
	type result struct {
		p       int
		rev     uint64
		retaken bool
		err     error
	}
	results := make(chan result, len(refused))
	ctx, cancel := o.ioCtx(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range refused {
		if o.releasing[p] {
			// Handing off anyway: the worker is stopping.
			results <- result{p, 0, false, errLeaseTaken}
			continue
		}
		wg.Go(func() {
			rev, retaken, err := o.leases.reclaim(ctx, p)
			results <- result{p, rev, retaken, err}
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		switch {
		case r.err == nil && r.retaken:
			o.c.log.Warn("lease expired and taken again", "partition", r.p, "revision", r.rev)
		case r.err == nil && r.rev != o.held[r.p]:
			o.c.log.Warn("lease kept after a late renewal", "partition", r.p, "revision", r.rev)
		}
		switch {
		case r.err == nil:
			o.held[r.p] = r.rev
			o.view.leases[r.p] = lease{owner: o.leases.self, rev: r.rev, seen: time.Now()}
			delete(o.view.freeSince, r.p)
		case errors.Is(r.err, errLeaseTaken):
			o.c.log.Warn("lease lost", "partition", r.p)
			o.lose(r.p)
		default:
			o.c.log.Warn("lease check failed", "partition", r.p, "err", r.err)
		}
	}
}

// lose forgets a lease another instance holds now (or that expired).
func (o *owner) lose(p int) {
	delete(o.held, p)
	if !o.releasing[p] {
		o.c.stop(p)
	}
}

// rebalance is one pass of the protocol over the view: hand off what is
// beyond this instance's share, claim free partitions up to it.
func (o *owner) rebalance(ctx context.Context, now time.Time) {
	o.view.expire(now)
	self := o.leases.self
	members := slices.Sorted(maps.Keys(o.view.members))
	if _, ok := o.view.members[self]; !ok {
		members = append(members, self)
		slices.Sort(members)
	}
	owners := make(map[int]string, len(o.view.leases))
	for p, l := range o.view.leases {
		owners[p] = l.owner
		if l.owner == self {
			owners[p] = staleOwner
		}
	}
	var kept []int
	for p := range o.held {
		owners[p] = self
		if !o.releasing[p] {
			kept = append(kept, p)
		}
	}
	slices.Sort(kept)
	a := assign(self, o.c.cfg.Partitions, members, owners, kept)
	for _, p := range a.release {
		o.handOff(p)
	}
	if a.want == 0 || len(a.claim) == 0 {
		return
	}
	ctx, cancel := o.ioCtx(ctx)
	defer cancel()
	got := 0
	for _, p := range a.claim {
		if got == a.want {
			break
		}
		// Below its floor an instance claims at once. A ceil share is
		// claimed only after a short grace: an instance that has not yet
		// seen a newcomer's heartbeat must not take the partition that
		// was handed off for the newcomer.
		if len(kept)+got >= a.floor && now.Sub(o.view.freeSince[p]) < o.grace {
			continue
		}
		if now.Before(o.retry[p]) {
			continue
		}
		rev, ok, err := o.leases.acquire(ctx, p)
		if err != nil {
			o.c.log.Warn("acquire failed", "partition", p, "err", err)
			return
		}
		if !ok {
			// Someone was first, or the server has not expired the lease
			// yet; the watch says which.
			o.retry[p] = now.Add(o.retryDelay)
			continue
		}
		delete(o.retry, p)
		o.held[p] = rev
		o.view.leases[p] = lease{owner: self, rev: rev, seen: now}
		delete(o.view.freeSince, p)
		o.c.log.Info("partition acquired", "partition", p)
		o.c.start(p)
		got++
	}
}

// handOff stops p's worker in the background and keeps renewing its
// lease until the worker has saved its checkpoint; then the loop releases
// it (handedOff), so the next owner starts from that checkpoint.
func (o *owner) handOff(p int) {
	o.releasing[p] = true
	w := o.c.stop(p)
	go func() {
		if w != nil {
			<-w.done
		}
		o.released <- p // buffered for every partition: never blocks
	}()
}

func (o *owner) handedOff(ctx context.Context, p int) {
	delete(o.releasing, p)
	rev, ok := o.held[p]
	if !ok {
		return // lost meanwhile
	}
	delete(o.held, p)
	ctx, cancel := o.ioCtx(ctx)
	defer cancel()
	if err := o.leases.release(ctx, p, rev); err != nil {
		// The lease expires by itself within a TTL.
		o.c.log.Warn("release failed", "partition", p, "err", err)
		return
	}
	o.c.log.Info("partition handed off", "partition", p)
}

// nextWake is when the view next changes by itself: an entry expires, a
// free partition's grace ends, or a refused claim may be retried.
func (o *owner) nextWake(now time.Time) time.Duration {
	next := o.view.nextExpiry()
	at := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, since := range o.view.freeSince {
		at(since.Add(o.grace))
	}
	for _, t := range o.retry {
		at(t)
	}
	if next.IsZero() || !next.After(now) {
		return o.interval
	}
	return next.Sub(now)
}
