package kv

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/metrics"
)

// PublishAsync is js.PublishMsgAsync, except that a full window of
// unacknowledged async publishes makes it wait for room, until ctx ends,
// rather than fail. The window (WithPublishAsyncMaxPending) belongs to
// the connection, and every partition of a calculator publishes through
// it: up to a batch of KV writes and of dead letters each, eight
// partitions together well over the window when every key of
// a batch is distinct. nats.go gives up on a publish that found no room
// for its stall wait (200 ms) with ErrTooManyStalledMsgs, which used to
// stop the partition and restart it from its checkpoint; a full window is
// back-pressure, not a failure, so the publish waits its turn. A server
// that stopped answering still fails the publishes in the window, each
// after the connection's async timeout.
func PublishAsync(ctx context.Context, js jetstream.JetStream, msg *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	return publishAsync(ctx, js, msg, nil, opts...)
}

// publishAsync is PublishAsync, counting the publishes that waited in
// stalls as well.
func publishAsync(ctx context.Context, js jetstream.JetStream, msg *nats.Msg, stalls *uint64, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	stalled := false
	for {
		f, err := js.PublishMsgAsync(msg, opts...)
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return f, err
		}
		if !stalled {
			stalled = true
			metrics.PublishStalls.Inc()
			if stalls != nil {
				*stalls++
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}
