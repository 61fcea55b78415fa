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
	"github.com/sellable/inventory/wire"
)

// Calculator is one instance of the partitioned stream processor.
type Calculator struct {
	js      jetstream.JetStream
	store   *kv.Store
	codecs  *wire.Codecs
	cfg     Config
	log     *slog.Logger
	leases  *leases
	offsets *offsets
	stats   Stats

	mu sync.Mutex
	// running are the partitions being processed; latest is the newest
	// worker of each partition, running or still stopping.
	running map[int]*worker
	latest  map[int]*worker
	// workers counts worker goroutines, so shutdown can wait for all.
	workers sync.WaitGroup
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
		js: js, store: store, codecs: d.Events, cfg: cfg,
		log:    cfg.Logger.With("instance", cfg.InstanceID),
		leases: l, offsets: o,
		stats:   Stats{stallAfter: cfg.StallAfter},
		running: make(map[int]*worker), latest: make(map[int]*worker),
	}, nil
}

// Run takes and gives up partitions until ctx ends, then stops every
// partition (each saves its checkpoint) and leaves the group.
func (c *Calculator) Run(ctx context.Context) error {
	o := newOwner(c)
	o.run(ctx)
	c.shutdown(o.held)
	return nil
}

func (c *Calculator) isRunning(p int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.running[p]
	return ok
}

// start runs partition p from its checkpoint. If an earlier worker of p is
// still stopping, the new one waits for it, so one process never folds a
// partition twice at once.
func (c *Calculator) start(p int) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{cancel: cancel, done: make(chan struct{})}
	c.mu.Lock()
	prev := c.latest[p]
	c.running[p] = w
	c.latest[p] = w
	metrics.PartitionsOwned.Set(float64(len(c.running)))
	c.mu.Unlock()
	part := &partition{
		id: p, js: c.js, offsets: c.offsets,
		codecs: c.codecs, cfg: c.cfg, log: c.log, stats: &c.stats,
	}
	part.writer = c.store.Writer(c.js, p, kv.WithCacheKeys(c.cfg.writerCacheKeys()), kv.WithRebuild(part.rebuild))
	c.stats.started(p, time.Now())
	c.workers.Add(1)
	go func() {
		defer c.workers.Done()
		defer close(w.done)
		defer func() {
			c.mu.Lock()
			if c.running[p] == w {
				delete(c.running, p)
			}
			if c.latest[p] == w {
				delete(c.latest, p)
			}
			metrics.PartitionsOwned.Set(float64(len(c.running)))
			c.mu.Unlock()
		}()
		if prev != nil {
			select {
			case <-prev.done:
			case <-ctx.Done():
				return
			}
		}
		if err := part.run(ctx); err != nil {
			c.log.Error("partition stopped", "partition", p, "err", clip(err.Error(), maxDeadReason))
			c.stats.failed(p, err, time.Now())
		}
		// Before the partition may start again here with a new writer;
		// not under a batch left in process, which may still use it.
		if !part.abandoned {
			part.writer.Close()
		}
	}()
}

// stop asks partition p's worker to end and returns it (nil if none runs);
// its done closes once the worker has saved its checkpoint. stop does not
// wait, so the ownership loop never blocks on a partition.
func (c *Calculator) stop(p int) *worker {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Whatever was known of p's progress is stale once it is not ours,
	// also when its worker had already failed.
	c.stats.forget(p)
	w, ok := c.running[p]
	if !ok {
		return nil
	}
	delete(c.running, p)
	metrics.PartitionsOwned.Set(float64(len(c.running)))
	w.cancel()
	return w
}

// shutdown stops every partition at once: each saves its checkpoint, and
// with NATS unreachable each waits out its own deadline, so shutting down
// takes one stop time, not one per partition. Then it gives up the
// leases in held and leaves the group so the others take over at once.
func (c *Calculator) shutdown(held map[int]uint64) {
	c.mu.Lock()
	for p, w := range c.running {
		w.cancel()
		delete(c.running, p)
	}
	metrics.PartitionsOwned.Set(0)
	c.mu.Unlock()
	c.workers.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for p, rev := range held {
		wg.Go(func() {
			if err := c.leases.release(ctx, p, rev); err != nil {
				c.log.Warn("release failed", "partition", p, "err", err)
			}
		})
	}
	wg.Wait()
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
