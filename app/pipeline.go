package app

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/streams"
)

// Topology is what every program agrees on about the streams.
type Topology struct {
	Partitions int
	Replicas   int
}

// EnsureStreams creates or checks the streams, waiting for JetStream to
// be reachable.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) error {
	cfg := streams.DefaultConfig()
	cfg.Partitions, cfg.Replicas = t.Partitions, t.Replicas
	if err := cfg.Validate(); err != nil {
		return err
	}
	return Retry(ctx, log, "ensure streams", func(ctx context.Context) error {
		return streams.Ensure(ctx, js, cfg)
	})
}

// OpenView opens the partition buckets, waiting for JetStream.
func OpenView(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) (*kv.Store, error) {
	var store *kv.Store
	err := Retry(ctx, log, "open kv buckets", func(ctx context.Context) error {
		var err error
		store, err = kv.Open(ctx, js, kv.Config{Partitions: t.Partitions, Replicas: t.Replicas})
		return err
	})
	return store, err
}

// Commands is the write side's service.
func Commands(js jetstream.JetStream, t Topology) *command.Service {
	return command.NewService(js, streams.JSON{}, t.Partitions)
}

// NewCalculator builds a calculator instance over the view.
func NewCalculator(ctx context.Context, js jetstream.JetStream, store *kv.Store, t Topology, log *slog.Logger) (*calculator.Calculator, error) {
	cfg := calculator.DefaultConfig()
	cfg.Partitions, cfg.Replicas, cfg.Logger = t.Partitions, t.Replicas, log
	var calc *calculator.Calculator
	err := Retry(ctx, log, "start calculator", func(ctx context.Context) error {
		var err error
		calc, err = calculator.New(ctx, js, store, streams.NewCodecs(), cfg)
		return err
	})
	return calc, err
}
