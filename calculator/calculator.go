package calculator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/metrics"
	"github.com/sellable/inventory/streams"
)

// Calculator is one instance of the partitioned stream processor.
type Calculator struct {
	js      jetstream.JetStream
	store   *kv.Store
	codecs  *streams.Codecs
	changes *streams.ChangeCodec
	cfg     Config
	log     *slog.Logger
	leases  *leases
	offsets *offsets
	stats   Stats

	mu      sync.Mutex
	running map[int]*worker
}

type worker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// New prepares an instance over d with the settings cfg; Run makes it
// take part. It reports every missing dependency and bad setting at once.
func New(ctx context.Context, d Deps, cfg Config) (*Calculator, error) {
	if err := errors.Join(d.Validate(), cfg.Validate()); err != nil {
		return nil, err
	}
	js, store := d.JS, d.Store
	if store.Partitions() != cfg.Partitions {
		return nil, fmt.Errorf("calculator: store has %d partitions, config %d", store.Partitions(), cfg.Partitions)
	}
	l, err := openLeases(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	o, err := openOffsets(ctx, js, cfg.Replicas, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Calculator{
		js: js, store: store, codecs: d.Events, changes: d.Changes, cfg: cfg,
		log:    cfg.Logger.With("instance", cfg.InstanceID),
		leases: l, offsets: o,
		stats:   Stats{stallAfter: cfg.StallAfter},
		running: make(map[int]*worker),
	}, nil
}

// Run takes and gives up partitions until ctx ends, then stops every
// partition (each saves its checkpoint) and leaves the group.
func (c *Calculator) Run(ctx context.Context) error {
	interval := c.cfg.LeaseTTL / 4
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := c.rebalance(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("rebalance failed", "err", err)
		}
		c.stats.stalls(c.cfg.Partitions) // keeps the stalled gauges current
		select {
		case <-ctx.Done():
			c.shutdown()
			return nil
		case <-t.C:
		}
	}
}

// rebalance is one round of the ownership protocol: say we are alive,
// work out the balanced assignment over live members, keep and renew what
// is ours, release what belongs to another, take what is ours and free.
func (c *Calculator) rebalance(ctx context.Context) error {
	if err := c.leases.heartbeat(ctx); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	members, err := c.leases.members(ctx)
	if err != nil {
		return fmt.Errorf("members: %w", err)
	}
	var errs []error
	for p := 0; p < c.cfg.Partitions; p++ {
		if err := c.reconcile(ctx, p, desired(p, members)); err != nil {
			errs = append(errs, fmt.Errorf("partition %d: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Calculator) reconcile(ctx context.Context, p int, want string) error {
	owner, _, err := c.leases.owner(ctx, p)
	if err != nil {
		return err
	}
	mine := c.isRunning(p)
	switch {
	case owner == c.leases.self && want != c.leases.self:
		c.stop(p)
		return c.leases.release(ctx, p)
	case owner == c.leases.self:
		if err := c.leases.renew(ctx, p); err != nil {
			c.stop(p) // someone else holds it now
			return err
		}
		if !mine { // the worker failed: start it again from its checkpoint
			c.stats.restarted(p)
			c.start(p)
		}
	case owner == "" && want == c.leases.self:
		ok, err := c.leases.acquire(ctx, p)
		if err != nil || !ok {
			c.stats.forget(p)
			return err
		}
		c.start(p)
	case mine: // the lease expired or moved while we were not looking
		c.stop(p)
		delete(c.leases.revs, p)
	default: // not ours: whatever we knew of its progress is stale
		c.stats.forget(p)
	}
	return nil
}

func (c *Calculator) isRunning(p int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.running[p]
	return ok
}

func (c *Calculator) start(p int) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{cancel: cancel, done: make(chan struct{})}
	c.mu.Lock()
	c.running[p] = w
	metrics.PartitionsOwned.Set(float64(len(c.running)))
	c.mu.Unlock()
	part := &partition{
		id: p, js: c.js, offsets: c.offsets,
		codecs: c.codecs, changes: c.changes, cfg: c.cfg, log: c.log, stats: &c.stats,
	}
	part.writer = c.store.Writer(c.js, p, kv.WithCacheKeys(c.cfg.writerCacheKeys()), kv.WithRebuild(part.rebuild))
	c.stats.started(p, time.Now())
	go func() {
		defer close(w.done)
		if err := part.run(ctx); err != nil {
			c.log.Error("partition stopped", "partition", p, "err", clip(err.Error(), maxDeadReason))
			c.stats.failed(p, err, time.Now())
		}
		// Before the partition may start again here with a new writer;
		// not under a batch left in process, which may still use it.
		if !part.abandoned {
			part.writer.Close()
		}
		c.mu.Lock()
		if c.running[p] == w {
			delete(c.running, p)
		}
		metrics.PartitionsOwned.Set(float64(len(c.running)))
		c.mu.Unlock()
	}()
}

// stop ends partition p's worker and waits for it to save its checkpoint.
// The worker does not wait for a batch in process (see partition.run), so
// neither does stop.
func (c *Calculator) stop(p int) {
	c.mu.Lock()
	w, ok := c.running[p]
	delete(c.running, p)
	metrics.PartitionsOwned.Set(float64(len(c.running)))
	c.mu.Unlock()
	defer c.stats.forget(p)
	if !ok {
		return
	}
	w.cancel()
	<-w.done
	c.log.Info("partition released", "partition", p)
}

func (c *Calculator) shutdown() {
	owned := c.Owned()
	// Stop the partitions together: each saves its checkpoint, and with
	// NATS unreachable each waits out its own deadline.
	var wg sync.WaitGroup
	for _, p := range owned {
		wg.Go(func() { c.stop(p) })
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, p := range owned {
		if err := c.leases.release(ctx, p); err != nil {
			c.log.Warn("release failed", "partition", p, "err", err)
		}
	}
	if err := c.leases.leave(ctx); err != nil {
		c.log.Warn("leave failed", "err", err)
	}
}

// Owned lists the partitions this instance is processing.
func (c *Calculator) Owned() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int, 0, len(c.running))
	for p := range c.running {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Stats is what this instance's partitions applied.
func (c *Calculator) Stats() map[int]PartitionStats { return c.stats.Snapshot() }

// Stalls lists the partitions this instance holds that cannot make
// progress (see Config.StallAfter).
func (c *Calculator) Stalls() []Stall { return c.stats.stalls(c.cfg.Partitions) }

// Status is what an operator sees of this instance.
type Status struct {
	Instance   string                 `json:"instance"`
	Partitions int                    `json:"partitions"`
	Owned      []int                  `json:"owned"`
	Stats      map[int]PartitionStats `json:"stats"`
}

// Status reports the partitions owned and what they applied.
func (c *Calculator) Status() Status {
	return Status{Instance: c.cfg.InstanceID, Partitions: c.cfg.Partitions, Owned: c.Owned(), Stats: c.Stats()}
}
