package app

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/streams"
)

// NATSConnected is ready while the connection is up.
func NATSConnected(nc *nats.Conn) api.Check {
	return func(context.Context) error {
		if !nc.IsConnected() {
			return fmt.Errorf("nats %s", nc.Status())
		}
		return nil
	}
}

// StreamsPresent is ready while the event stream answers.
func StreamsPresent(js jetstream.JetStream) api.Check {
	return func(ctx context.Context) error {
		_, err := js.Stream(ctx, streams.EventStream)
		return err
	}
}
