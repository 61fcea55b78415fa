package calculator

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

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
	Logger          *slog.Logger
}

// DefaultConfig fills everything but Partitions.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		Replicas:        1,
		InstanceID:      host + "-" + strconv.Itoa(os.Getpid()) + "-" + nuid.Next()[:6],
		LeaseTTL:        4 * time.Second,
		MaxBatch:        1000,
		CheckpointEvery: 250 * time.Millisecond,
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
	if c.Logger == nil {
		errs = append(errs, errors.New("calculator: logger is required"))
	}
	return errors.Join(errs...)
}
