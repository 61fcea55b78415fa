// Command schema-registry serves the Confluent-compatible schema registry
// API from a JetStream KV bucket on an external NATS.
package main

import (
	"context"
	"log/slog"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/registry"
)

func main() {
	f := app.NewFlags("schema-registry")
	rcfg := registry.DefaultConfig()
	natsURL := f.String("nats-url", "NATS_URL", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	httpAddr := f.String("http-addr", "REGISTRY_HTTP_ADDR", "127.0.0.1:8081", "HTTP listen address")
	f.IntVar(&rcfg.Replicas, "replicas", "INVENTORY_REPLICAS", rcfg.Replicas, "replicas of the registry KV bucket")
	f.StringVar(&rcfg.Bucket, "bucket", "REGISTRY_BUCKET", rcfg.Bucket, "registry KV bucket")
	limits := app.HTTPFlags(f)
	app.Main(f, func(ctx context.Context, log *slog.Logger) error {
		if err := rcfg.Validate(); err != nil {
			return err
		}
		nc, js, err := app.Connect(*natsURL, "schema-registry", log)
		if err != nil {
			return err
		}
		defer nc.Close()
		// The registry may start before NATS does.
		var store *registry.Store
		err = app.Retry(ctx, log, "open schema registry", func(ctx context.Context) error {
			store, err = registry.NewStore(ctx, js, rcfg)
			return err
		})
		if err != nil {
			return err
		}
		e := app.RegistryAPI(store, nc, log)
		return app.RunAll(ctx, nc, log, func(ctx context.Context) error { return app.Serve(ctx, e, *httpAddr, *limits, log) })
	})
}
