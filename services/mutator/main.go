// Command mutator serves the command API against an external NATS:
// POST /inventory/adjustment and POST /inventory/reservation.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/streams"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mutator:", err)
		os.Exit(1)
	}
}

func run() error {
	f := app.NewFlags("mutator")
	httpAddr := f.String("http-addr", "INVENTORY_HTTP_ADDR", "127.0.0.1:9091", "HTTP listen address")
	natsURL := f.String("nats-url", "NATS_URL", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	partitions := f.Int("partitions", "INVENTORY_PARTITIONS", streams.DefaultPartitions, "partitions of a new event stream")
	replicas := f.Int("replicas", "INVENTORY_REPLICAS", 1, "replicas of streams and buckets")
	_ = f.Parse(os.Args[1:])
	log := app.Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	nc, js, err := app.Connect(*natsURL, "mutator", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	topo := app.Topology{Partitions: *partitions, Replicas: *replicas}
	if err := app.EnsureStreams(ctx, js, topo, log); err != nil {
		return err
	}

	wire, err := app.OpenWire(ctx, js, topo, log)
	if err != nil {
		return err
	}
	e := api.NewServer(log)
	api.RegisterCommands(e, app.Commands(js, topo, wire))
	api.RegisterReady(e, map[string]api.Check{"nats": app.NATSConnected(nc), "streams": app.StreamsPresent(js)})
	err = app.Serve(ctx, e, *httpAddr, log)
	_ = nc.Drain()
	return err
}
