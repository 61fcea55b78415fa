package calculator

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Config sets up a calculator instance.
type Config struct {
	// Partitions must match the event stream's partition count.
	Partitions int
	// Replicas of the lease and offset buckets.
	Replicas int
	// InstanceID names this instance in leases; unique per process.
	InstanceID string
	// LeaseTTL is how long a dead instance keeps its partitions. Takeover
	// happens about LeaseTTL after its last renewal (every LeaseTTL/4),
	// plus a grace of LeaseTTL/8 for who takes a ceil share.
	LeaseTTL time.Duration
	// MaxBatch bounds the events folded into one round of KV writes.
	MaxBatch int
	// CheckpointEvery is how often a partition's replay point is saved.
	CheckpointEvery time.Duration
	// WriterCacheKeys bounds the keys whose value and revision this
	// instance keeps in memory, over all partitions: each partition's
	// writer keeps at most WriterCacheKeys/Partitions (rounded up), so the
	// bound holds however many partitions the instance owns. A key
	// forgotten costs one KV read on its next write, unless the writer is
	// creating keys blind (most of its misses are new keys). 0 caches
	// nothing.
	WriterCacheKeys int
	// StallAfter is how long a partition may go without progress before
	// it is reported stalled (status, readiness, metric): one batch in
	// process that long, or a worker failing again and again without
	// advancing, each run shorter than that.
	StallAfter time.Duration
	Logger     *slog.Logger
}

// DefaultWriterCacheKeys is WriterCacheKeys unless set: about 57 MB of
// heap at the ~227 bytes one cached key costs with short ids
// (BenchmarkCacheMemory; RSS figures in BENCHMARKS.md), and far more than
// the hot keys of a partition, which are what the cache is for.
const DefaultWriterCacheKeys = 250_000

// defaultStallAfter is far above a healthy batch (milliseconds) and above
// a NATS leader election, so that only a partition that is truly stuck
// makes the instance unready.
const defaultStallAfter = 15 * time.Second

// DefaultConfig fills everything but Partitions.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		Replicas:        1,
		InstanceID:      host + "-" + strconv.Itoa(os.Getpid()) + "-" + nuid.Next()[:6],
		LeaseTTL:        4 * time.Second,
		MaxBatch:        1000,
		CheckpointEvery: 250 * time.Millisecond,
		WriterCacheKeys: DefaultWriterCacheKeys,
		StallAfter:      defaultStallAfter,
		Logger:          slog.Default(),
	}
}

// Validate reports every setting that is out of range.
func (c Config) Validate() error {
	var errs []error
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("calculator: partitions %d < 1", c.Partitions))
	}
	if c.InstanceID == "" {
		errs = append(errs, errors.New("calculator: instance id is required"))
	}
	if c.LeaseTTL < time.Second {
		errs = append(errs, fmt.Errorf("calculator: lease ttl %v < 1s", c.LeaseTTL))
	}
	if c.MaxBatch < 1 {
		errs = append(errs, fmt.Errorf("calculator: max batch %d < 1", c.MaxBatch))
	}
	if c.CheckpointEvery <= 0 {
		errs = append(errs, errors.New("calculator: checkpoint interval must be positive"))
	}
	if c.WriterCacheKeys < 0 {
		errs = append(errs, fmt.Errorf("calculator: writer cache keys %d < 0", c.WriterCacheKeys))
	}
	if c.StallAfter <= 0 {
		errs = append(errs, errors.New("calculator: stall bound must be positive"))
	}
	if c.Logger == nil {
		errs = append(errs, errors.New("calculator: logger is required"))
	}
	return errors.Join(errs...)
}

// BucketConfigs are the definitions of the buckets an instance shares with
// the others: the leases and the replay points. They exist once per
// deployment, so their settings change only through `inventory admin apply`.
func BucketConfigs(c Config) []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{leasesBucketConfig(c), offsetsBucketConfig(c.Replicas)}
}

// writerCacheKeys is one partition's share of WriterCacheKeys.
func (c Config) writerCacheKeys() int {
	return (c.WriterCacheKeys + c.Partitions - 1) / c.Partitions
}
