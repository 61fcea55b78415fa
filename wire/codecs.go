package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// AvroCodecs registers the event schemas in reg and returns what the
// programs need to speak Avro: the event codec for command.NewService and
// the decoders for the calculator (Avro and JSON, chosen by
// Content-Type). While the registry cannot be reached it retries until
// ctx ends, backing off up to 2s as app.Retry does (a program may start
// before its NATS server); a registry that rejects a schema is an error
// at once. log may be nil.
func AvroCodecs(ctx context.Context, reg SchemaRegistry, log *slog.Logger) (*AvroEvents, *Codecs, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		events, err := NewAvroEvents(ctx, reg, AvroConfig{})
		if err == nil {
			return events, NewCodecs(events), nil
		}
		if errors.Is(err, ErrSchemaRejected) {
			return nil, nil, fmt.Errorf("wire: %w", err)
		}
		log.Warn("retrying", "what", "register avro schemas", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("wire: register avro schemas: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}
