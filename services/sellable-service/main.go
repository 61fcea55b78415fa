// Command sellable-service is the projector and the query API over
// Scylla: it copies sellable changes from the SELLABLE stream into the
// projection and serves positions and per-location listings from it.
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
	def := projection.DefaultConfig()
	f := app.NewFlags("sellable-service")
	httpAddr := f.String("http-addr", "INVENTORY_HTTP_ADDR", "127.0.0.1:9093", "HTTP listen address")
	natsURL := f.String("nats-url", "NATS_URL", "nats://127.0.0.1:4222", "NATS server")
	hosts := f.String("scylla-hosts", "SCYLLA_HOSTS", "127.0.0.1:9042", "CQL contact points, comma-separated")
	keyspace := f.String("scylla-keyspace", "SCYLLA_KEYSPACE", def.Keyspace, "keyspace of the projection")
	replication := f.String("scylla-replication", "SCYLLA_REPLICATION", "", `replication of a new keyspace: N, "dc1:3,dc2:3" or a CQL map (default SimpleStrategy 1)`)
	inFlight := f.Int("max-in-flight", "PROJECTOR_MAX_IN_FLIGHT", def.MaxInFlight, "concurrent writes of the projector")
	_ = f.Parse(os.Args[1:])
	log := app.Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := def
	cfg.Hosts = projection.ParseHosts(*hosts)
	cfg.Keyspace, cfg.Replication, cfg.MaxInFlight = *keyspace, *replication, *inFlight
	cfg.Logger = log

	// Connect retries in the background until NATS is up; the projection
	// waits for Scylla and for the SELLABLE stream itself.
	nc, js, err := app.Connect(*natsURL, "sellable-service", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	svc, err := projection.New(js, cfg)
	if err != nil {
		return err
	}

	e := api.NewServer(log)
	api.RegisterQueries(e, svc.Reader())
	api.RegisterList(e, svc.Reader())

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return svc.Run(gctx) })
	g.Go(func() error { return app.Serve(gctx, e, *httpAddr, log) })
	err = g.Wait()
	if ferr := nc.Drain(); ferr != nil {
		log.Warn("nats drain", "err", ferr)
	}
	return err
}
