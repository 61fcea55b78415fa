// Command sellable-service keeps the sellable view in Scylla, fed by the
// calculator's sellable changes, and answers the query API from it:
// GET /inventory/locations/{location}/skus/{sku} and
// GET /inventory/locations/{location}/skus (paged).
package main

import (
	"context"
	"log/slog"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/projection"
)

func main() {
	f := app.NewFlags("sellable-service")
	cfg := app.CommonFlags(f, "127.0.0.1:9093", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	projectionConfig := app.ProjectionFlags(f, "127.0.0.1:9042")
	app.Main(f, func(ctx context.Context, log *slog.Logger) error {
		nc, js, err := app.Connect(cfg.NATSURL, "sellable-service", log)
		if err != nil {
			return err
		}
		defer nc.Close()
		wire, err := app.OpenWire(ctx, js, cfg.Topology, log)
		if err != nil {
			return err
		}
		// The projection waits for Scylla and for the SELLABLE stream itself.
		svc, err := projection.New(js, projectionConfig(wire, log))
		if err != nil {
			return err
		}
		e := app.ProjectionAPI(svc, nc, log)
		return app.RunAll(ctx, nc, log, svc.Run, func(ctx context.Context) error { return app.Serve(ctx, e, cfg.HTTPAddr, *cfg.HTTP, log) })
	})
}
