package kv

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Ensure opens bucket cfg.Bucket, creating it when absent. An existing
// bucket is used as it is: every instance of every program calls this at
// start, and on a cluster a create-or-update from each of them would be a
// meta-layer proposal racing the others.
func Ensure(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	b, err := js.KeyValue(ctx, cfg.Bucket)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("kv: open %s: %w", cfg.Bucket, err)
	}
	b, err = js.CreateKeyValue(ctx, cfg)
	if errors.Is(err, jetstream.ErrBucketExists) {
		b, err = js.KeyValue(ctx, cfg.Bucket) // another instance was first
	}
	if err != nil {
		return nil, fmt.Errorf("kv: create %s: %w", cfg.Bucket, err)
	}
	return b, nil
}
