package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/calculator"
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

// PartitionsProgress is ready while no partition the calculator holds is
// stalled: an instance whose partition cannot move must not look healthy.
func PartitionsProgress(c *calculator.Calculator) api.Check {
	return func(context.Context) error {
		stalls := c.Stalls()
		if len(stalls) == 0 {
			return nil
		}
		msgs := make([]string, len(stalls))
		for i, s := range stalls {
			msgs[i] = fmt.Sprintf("partition %d stalled since %s: %s", s.Partition, s.Since.UTC().Format(time.RFC3339), s.Reason)
		}
		return errors.New(strings.Join(msgs, "; "))
	}
}
