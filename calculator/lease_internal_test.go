package calculator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/stacktest"
)

// leaseFixture is one instance holding partition 0 of a one-partition
// stack, its worker running, driven by hand: the test calls renew as the
// owner loop's tick would, and plays the server's side (a late renewal,
// an expiry, another instance) on the bucket directly.
type leaseFixture struct {
	c   *Calculator
	o   *owner
	w   *worker // the worker started with the lease
	key string
}

func holdPartition(t *testing.T, ttl time.Duration) *leaseFixture {
	t.Helper()
	s := stacktest.Start(t, 1)
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Partitions, cfg.LeaseTTL = 1, ttl
	cfg.Logger = slog.New(slog.DiscardHandler)
	c, err := New(ctx, JSONDeps(s.JS, s.View), cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := newOwner(c)
	rev, ok, err := o.leases.acquire(ctx, 0)
	if err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	o.held[0] = rev
	c.start(0)
	t.Cleanup(func() { c.shutdown(o.held) })
	c.mu.Lock()
	w := c.running[0]
	c.mu.Unlock()
	return &leaseFixture{c: c, o: o, w: w, key: partitionKey(0)}
}

// kept fails unless partition 0 is held at a revision the bucket shows in
// this instance's name and the same worker still runs (no restart: its
// cache and consumer are kept).
func (f *leaseFixture) kept(t *testing.T) {
	t.Helper()
	rev, ok := f.o.held[0]
	if !ok {
		t.Fatal("the lease was given up")
	}
	e, err := f.o.leases.kv.Get(context.Background(), f.key)
	if err != nil || string(e.Value()) != f.o.leases.self || e.Revision() != rev {
		t.Fatalf("held at revision %d; the bucket shows %v", rev, entryString(e, err))
	}
	f.c.mu.Lock()
	w := f.c.running[0]
	f.c.mu.Unlock()
	if w != f.w {
		t.Fatalf("worker %p running, want the first one %p (restarted or stopped)", w, f.w)
	}
	// And the next renewal, at that revision, succeeds.
	f.o.renew(context.Background())
	if next := f.o.held[0]; next <= rev {
		t.Fatalf("renewed at revision %d, want above %d", next, rev)
	}
}

func entryString(e jetstream.KeyValueEntry, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s at revision %d", e.Value(), e.Revision())
}

// A renewal stored after its answer timed out (a starved process) makes
// the next one fail on the revision; the lease is still ours, at the
// newer revision: keep it, do not stop the worker. Before, this was
// decided from the watch, which on a starved connection lags, and the
// partition restarted with an empty cache.
func TestRenewalStoredLateKeepsPartition(t *testing.T) {
	f := holdPartition(t, 4*time.Second)
	// The late renewal: stored, its answer never seen.
	if _, err := f.o.leases.kv.Update(context.Background(), f.key, []byte(f.o.leases.self), f.o.held[0]); err != nil {
		t.Fatal(err)
	}
	f.o.renew(context.Background())
	f.kept(t)
}

// No renewal reached the server within the TTL (the process starved
// longer than that) and nobody took the partition meanwhile: the
// instance takes the lease again at once and keeps its worker.
func TestExpiredLeaseNobodyTookIsTakenAgainInPlace(t *testing.T) {
	f := holdPartition(t, time.Second)
	poll.Until(t, 10*time.Second, "the lease expired on the server", func() error {
		_, err := f.o.leases.kv.Get(context.Background(), f.key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		return errors.New("still there")
	})
	f.o.renew(context.Background())
	f.kept(t)
}

// A real loss still hands the partition over: another instance took the
// expired lease, so this one stops its worker and forgets the lease.
func TestLeaseTakenByAnotherIsLost(t *testing.T) {
	f := holdPartition(t, 4*time.Second)
	ctx := context.Background()
	if err := f.o.leases.kv.Purge(ctx, f.key); err != nil { // as an expiry would
		t.Fatal(err)
	}
	if _, err := f.o.leases.kv.Create(ctx, f.key, []byte("other-instance")); err != nil {
		t.Fatal(err)
	}
	f.o.renew(ctx)
	if _, ok := f.o.held[0]; ok {
		t.Fatal("still holds a lease another instance has")
	}
	select {
	case <-f.w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not stop")
	}
	if e, err := f.o.leases.kv.Get(ctx, f.key); err != nil || string(e.Value()) != "other-instance" {
		t.Fatalf("the other instance's lease was touched: %v", entryString(e, err))
	}
}
