package streams

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
)

// Stream names.
const (
	// EventStream is the event log: every adjustment and reservation.
	EventStream = "INVENTORY"
	// SellableStream holds the newest sellable value per position, for
	// downstream consumers such as the Scylla projector.
	SellableStream = "SELLABLE"
	// DeadLetterStream keeps messages the calculator could not apply,
	// with the reason in headers.
	DeadLetterStream = "INVENTORY_DLQ"
)

// DefaultPartitions is the partition count of a new deployment.
const DefaultPartitions = 8

// Config sets how the streams are created.
type Config struct {
	// Partitions is fixed when the event stream is created.
	Partitions int
	// Replicas is 1 standalone, 3 on a three-node cluster.
	Replicas int
	// Duplicates is the event stream's duplicate window: how long a
	// command's idempotency key is remembered. Each key in the window
	// costs the server memory and restart time (see BENCHMARKS.md).
	Duplicates time.Duration
}

// DefaultDuplicates is the event stream's default duplicate window; the
// README says why ten minutes.
const DefaultDuplicates = 10 * time.Minute

// replayWindow is the duplicate window of the streams the calculator
// writes: their Nats-Msg-Ids only guard a republish after a crash or a
// takeover, and one is tracked per change, so it stays short whatever
// the idempotency window is.
const replayWindow = 2 * time.Minute

// DefaultConfig is a standalone deployment with DefaultPartitions.
func DefaultConfig() Config {
	return Config{Partitions: DefaultPartitions, Replicas: 1, Duplicates: DefaultDuplicates}
}

// Validate reports every setting that is out of range.
func (c Config) Validate() error {
	var errs []error
	if c.Partitions < 1 || c.Partitions > 1024 {
		errs = append(errs, fmt.Errorf("streams: partitions %d not in 1..1024", c.Partitions))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("streams: replicas %d not in 1..5", c.Replicas))
	}
	if c.Duplicates <= 0 {
		errs = append(errs, fmt.Errorf("streams: idempotency window (the event stream's duplicate window) %v must be positive", c.Duplicates))
	}
	return errors.Join(errs...)
}

// partitionTransform inserts the partition token that the server computes
// from the location and SKU tokens, so both kinds of one key share it.
func partitionTransform(n int) *jetstream.SubjectTransformConfig {
	return &jetstream.SubjectTransformConfig{
		Source:      root + ".*.*.*",
		Destination: root + ".{{wildcard(1)}}.{{partition(" + strconv.Itoa(n) + ",2,3)}}.{{wildcard(2)}}.{{wildcard(3)}}",
	}
}

// EventStreamConfig is the event log's definition.
func EventStreamConfig(c Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        EventStream,
		Description: "Inventory events: adjustments and reservations per location and SKU",
		Subjects: []string{
			EventSubjectFilter(sellable.Adjustment),
			EventSubjectFilter(sellable.Reservation),
		},
		SubjectTransform: partitionTransform(c.Partitions),
		Storage:          jetstream.FileStorage,
		Retention:        jetstream.LimitsPolicy,
		Replicas:         c.Replicas,
		Duplicates:       c.Duplicates,
		Discard:          jetstream.DiscardOld,
	}
}

// EventSubjectFilter matches every published event of one kind.
func EventSubjectFilter(kind sellable.Kind) string {
	return root + "." + kindToken(kind) + ".*.*"
}

// SellableFilter matches every sellable change.
const SellableFilter = root + ".sellable.*.*"

// SellableStreamConfig keeps the last change per position, like a
// compacted topic: a new consumer reads every position's current value.
func SellableStreamConfig(c Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              SellableStream,
		Description:       "Newest sellable value per location and SKU",
		Subjects:          []string{SellableFilter},
		Storage:           jetstream.FileStorage,
		Retention:         jetstream.LimitsPolicy,
		MaxMsgsPerSubject: 1,
		Replicas:          c.Replicas,
		Duplicates:        replayWindow,
	}
}

// DeadLetterSubject is where a message from a partition that could not be
// applied is kept.
func DeadLetterSubject(p int) string {
	return root + ".deadletter." + strconv.Itoa(p)
}

// DeadLetterStreamConfig keeps rejected messages for a week.
func DeadLetterStreamConfig(c Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        DeadLetterStream,
		Description: "Inventory messages that could not be applied, with the reason",
		Subjects:    []string{root + ".deadletter.>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      7 * 24 * time.Hour,
		Replicas:    c.Replicas,
		Duplicates:  replayWindow,
	}
}

// Ensure creates the streams or brings their settings up to date. It
// refuses to change the partition count of an existing event stream: that
// would move keys between partitions and needs a migration (see README).
func Ensure(ctx context.Context, js jetstream.JetStream, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := checkPartitions(ctx, js, c.Partitions); err != nil {
		return err
	}
	for _, cfg := range []jetstream.StreamConfig{EventStreamConfig(c), SellableStreamConfig(c), DeadLetterStreamConfig(c)} {
		if err := ensure(ctx, js, cfg); err != nil {
			return fmt.Errorf("streams: ensure %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// ensure creates a stream, or updates it when a setting we own differs.
// An unchanged stream is left alone: every instance calls this at start,
// and on a cluster each update is a meta-layer proposal.
func ensure(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) error {
	s, err := js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, want)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil // another instance was first
		}
		return err
	}
	if err != nil {
		return err
	}
	if same(s.CachedInfo().Config, want) {
		return nil
	}
	_, err = js.UpdateStream(ctx, want)
	return err
}

// same compares the settings this package sets; the server fills others.
func same(have, want jetstream.StreamConfig) bool {
	return slices.Equal(have.Subjects, want.Subjects) &&
		reflect.DeepEqual(have.SubjectTransform, want.SubjectTransform) &&
		have.Replicas == want.Replicas && have.Duplicates == want.Duplicates &&
		have.MaxAge == want.MaxAge && limit(have.MaxMsgsPerSubject) == limit(want.MaxMsgsPerSubject) &&
		have.Description == want.Description
}

func checkPartitions(ctx context.Context, js jetstream.JetStream, n int) error {
	s, err := js.Stream(ctx, EventStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("streams: look up %s: %w", EventStream, err)
	}
	have := s.CachedInfo().Config.SubjectTransform
	want := partitionTransform(n)
	if have == nil || have.Destination != want.Destination {
		return fmt.Errorf("%w: stream %s has transform %v, want %d partitions", ErrPartitionCount, EventStream, have, n)
	}
	return nil
}

// Partitions reads the partition count from the existing event stream, so
// that services other than the one that created it need not be told.
func Partitions(ctx context.Context, js jetstream.JetStream) (int, error) {
	s, err := js.Stream(ctx, EventStream)
	if err != nil {
		return 0, fmt.Errorf("streams: look up %s: %w", EventStream, err)
	}
	tr := s.CachedInfo().Config.SubjectTransform
	if tr != nil {
		_, rest, _ := strings.Cut(tr.Destination, "{{partition(")
		num, _, _ := strings.Cut(rest, ",")
		if n, err := strconv.Atoi(num); err == nil && *partitionTransform(n) == *tr {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: stream %s has transform %v", ErrPartitionCount, EventStream, tr)
}

// limit reads 0 as the server does: no limit, which it reports as -1.
func limit(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}
