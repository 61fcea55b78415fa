// Command sellable-service keeps the sellable view in Scylla, fed by the
// calculator's sellable changes, and answers the query API from it:
// GET /inventory/locations/{location}/skus/{sku} and
// GET /inventory/locations/{location}/skus (paged).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/projection"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sellable-service:", err)
		os.Exit(1)
	}
}

func run() error {
	f := app.NewFlags("sellable-service")
	cfg := app.CommonFlags(f, "127.0.0.1:9093", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	projectionConfig := app.ProjectionFlags(f, "127.0.0.1:9042")
	_ = f.Parse(os.Args[1:])
	log := app.Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

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
	e := app.ProjectionAPI(svc, log)
	api.RegisterReady(e, map[string]api.Check{"nats": app.NATSConnected(nc)})
	return app.RunAll(ctx, nc, log, svc.Run, func(ctx context.Context) error { return app.Serve(ctx, e, cfg.HTTPAddr, log) })
}
