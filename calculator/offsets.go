package calculator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
)

// offsetsBucket keeps, per partition, a stream sequence through which
// every event is reflected in the view. A new owner replays from there.
// The value only needs to be a lower bound: an older one replays more
// events, each of which is skipped by the sequence check in the view.
const offsetsBucket = "calculator_offsets"

type offsets struct {
	kv jetstream.KeyValue
}

func offsetsBucketConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      offsetsBucket,
		Description: "Per-partition replay points of the calculators",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

func openOffsets(ctx context.Context, js jetstream.JetStream, replicas int, log *slog.Logger) (*offsets, error) {
	b, err := kv.Ensure(ctx, js, offsetsBucketConfig(replicas), log)
	if err != nil {
		return nil, fmt.Errorf("calculator: open %s: %w", offsetsBucket, err)
	}
	return &offsets{kv: b}, nil
}

func offsetKey(p int) string { return "p" + strconv.Itoa(p) }

func (o *offsets) get(ctx context.Context, p int) (uint64, error) {
	e, err := o.kv.Get(ctx, offsetKey(p))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("calculator: read offset of partition %d: %w", p, err)
	}
	seq, err := strconv.ParseUint(string(e.Value()), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("calculator: offset of partition %d: %w", p, err)
	}
	return seq, nil
}

func (o *offsets) put(ctx context.Context, p int, seq uint64) error {
	if _, err := o.kv.Put(ctx, offsetKey(p), strconv.AppendUint(nil, seq, 10)); err != nil {
		return fmt.Errorf("calculator: save offset of partition %d: %w", p, err)
	}
	return nil
}
