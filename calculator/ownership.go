package calculator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/streams"
)

// leasesBucket holds "members.<instance>" heartbeats and
// "partitions.<p>" = owning instance. Its MaxAge is the lease TTL, so the
// keys of a dead instance vanish by themselves.
const leasesBucket = "calculator_leases"

const (
	memberPrefix    = "members."
	partitionPrefix = "partitions."
)

type leases struct {
	kv   jetstream.KeyValue
	self string // encoded instance id
	// revs are the revisions of the partition leases this instance holds.
	revs map[int]uint64
}

func leasesBucketConfig(c Config) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      leasesBucket,
		Description: "Calculator membership and partition ownership",
		History:     1,
		TTL:         c.LeaseTTL,
		Storage:     jetstream.MemoryStorage,
		Replicas:    max(c.Replicas, 1),
	}
}

func openLeases(ctx context.Context, js jetstream.JetStream, c Config) (*leases, error) {
	b, err := kv.Ensure(ctx, js, leasesBucketConfig(c), c.Logger)
	if err != nil {
		return nil, fmt.Errorf("calculator: open %s: %w", leasesBucket, err)
	}
	return &leases{kv: b, self: streams.EncodeToken(c.InstanceID), revs: make(map[int]uint64)}, nil
}

func partitionKey(p int) string { return partitionPrefix + strconv.Itoa(p) }

// heartbeat says this instance is alive.
func (l *leases) heartbeat(ctx context.Context) error {
	_, err := l.kv.Put(ctx, memberPrefix+l.self, []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	return err
}

// members lists the live instances, sorted.
func (l *leases) members(ctx context.Context) ([]string, error) {
	lister, err := l.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range lister.Keys() {
		if m, ok := strings.CutPrefix(k, memberPrefix); ok {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out, nil
}

// desired is the owner partition p should have among members: round robin
// over the sorted list, so every instance computes the same balanced map.
func desired(p int, members []string) string {
	if len(members) == 0 {
		return ""
	}
	return members[p%len(members)]
}

// owner reads who holds partition p ("" when nobody does).
func (l *leases) owner(ctx context.Context, p int) (string, uint64, error) {
	e, err := l.kv.Get(ctx, partitionKey(p))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	return string(e.Value()), e.Revision(), nil
}

// acquire takes partition p if nobody holds it.
func (l *leases) acquire(ctx context.Context, p int) (bool, error) {
	rev, err := l.kv.Create(ctx, partitionKey(p), []byte(l.self))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	l.revs[p] = rev
	return true, nil
}

// renew extends the lease on p; it fails if another instance took it.
func (l *leases) renew(ctx context.Context, p int) error {
	rev, err := l.kv.Update(ctx, partitionKey(p), []byte(l.self), l.revs[p])
	if err != nil {
		return err
	}
	l.revs[p] = rev
	return nil
}

// release gives p up, unless someone else already holds it.
func (l *leases) release(ctx context.Context, p int) error {
	rev, ok := l.revs[p]
	delete(l.revs, p)
	if !ok {
		return nil
	}
	err := l.kv.Purge(ctx, partitionKey(p), jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return nil
	}
	return err
}

// leave removes this instance's heartbeat so others rebalance at once.
func (l *leases) leave(ctx context.Context) error {
	return l.kv.Purge(ctx, memberPrefix+l.self)
}
