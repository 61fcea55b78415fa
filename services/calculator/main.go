// Command calculator is one instance of the partitioned stream processor
// against an external NATS. It shares the partitions with the other
// instances and serves the query API from the KV buckets, so any
// instance answers any key.
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
	"github.com/sellable/inventory/streams"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "calculator:", err)
		os.Exit(1)
	}
}

func run() error {
	f := app.NewFlags("calculator")
	httpAddr := f.String("http-addr", "INVENTORY_HTTP_ADDR", "127.0.0.1:9094", "HTTP listen address")
	natsURL := f.String("nats-url", "NATS_URL", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	partitions := f.Int("partitions", "INVENTORY_PARTITIONS", streams.DefaultPartitions, "partitions of a new event stream")
	replicas := f.Int("replicas", "INVENTORY_REPLICAS", 1, "replicas of streams and buckets")
	_ = f.Parse(os.Args[1:])
	log := app.Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	nc, js, err := app.Connect(*natsURL, "calculator", log)
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
	store, err := app.OpenView(ctx, js, topo, log)
	if err != nil {
		return err
	}
	calc, err := app.NewCalculator(ctx, js, store, topo, wire, log)
	if err != nil {
		return err
	}

	e := api.NewServer(log)
	api.RegisterQueries(e, store)
	api.RegisterReady(e, map[string]api.Check{"nats": app.NATSConnected(nc), "streams": app.StreamsPresent(js)})
	api.RegisterStatus(e, "/calculator/status", func(context.Context) any { return calc.Status() })

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return calc.Run(gctx) })
	g.Go(func() error { return app.Serve(gctx, e, *httpAddr, log) })
	err = g.Wait()
	_ = nc.Drain()
	return err
}
