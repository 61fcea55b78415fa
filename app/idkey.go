package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
)

// The deployment's secrets live in a bucket that only the admin and the
// command API's role may read (natsauth). Today it holds one: the key that
// turns an Idempotency-Key into a Nats-Msg-Id (command.WithIDKey), so that
// an event published by hand cannot pose as the duplicate of a later
// HTTP command (issue 13.8 h).
const idKeyName = "idempotency"

func secretsBucketConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      natsauth.SecretsBucket,
		Description: "Deployment secrets: the idempotency ID key",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	}
}

// OpenIDKey answers the deployment's idempotency ID key, waiting for
// JetStream; the first program (or `inventory admin apply`) to find none
// makes it.
func OpenIDKey(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) ([]byte, error) {
	var key []byte
	err := Retry(ctx, log, "open idempotency key", func(ctx context.Context) error {
		var err error
		key, err = ensureIDKey(ctx, js, t, log)
		return err
	})
	return key, err
}

func ensureIDKey(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) ([]byte, error) {
	b, err := kv.Ensure(ctx, js, secretsBucketConfig(t.Replicas), log)
	if err != nil {
		return nil, err
	}
	for {
		e, err := b.Get(ctx, idKeyName)
		if err == nil {
			return e.Value(), nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("app: idempotency key: %w", err)
		}
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("app: idempotency key: %w", err)
		}
		_, err = b.Create(ctx, idKeyName, secret)
		if err == nil {
			return secret, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("app: idempotency key: %w", err)
		}
		// Another instance made it first: read theirs.
	}
}
