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

	"golang.org/x/sync/errgroup"

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
	httpAddr := f.String("http-addr", "INVENTORY_HTTP_ADDR", "127.0.0.1:9093", "HTTP listen address")
	natsURL := f.String("nats-url", "NATS_URL", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	replicas := f.Int("replicas", "INVENTORY_REPLICAS", 1, "replicas of the schema registry bucket")
	projectionConfig := app.ProjectionFlags(f, "127.0.0.1:9042")
	_ = f.Parse(os.Args[1:])
	log := app.Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	nc, js, err := app.Connect(*natsURL, "sellable-service", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	wire, err := app.OpenWire(ctx, js, app.Topology{Replicas: *replicas}, log)
	if err != nil {
		return err
	}
	// The projection waits for Scylla and for the SELLABLE stream itself.
	svc, err := projection.New(js, projectionConfig(wire, log))
	if err != nil {
		return err
	}

	e := api.NewServer(log)
	api.RegisterQueries(e, svc.Reader())
	api.RegisterList(e, svc.Reader())
	api.RegisterReady(e, map[string]api.Check{"nats": app.NATSConnected(nc)})

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return svc.Run(gctx) })
	g.Go(func() error { return app.Serve(gctx, e, *httpAddr, log) })
	err = g.Wait()
	if ferr := nc.Drain(); ferr != nil {
		log.Warn("nats drain", "err", ferr)
	}
	return err
}
