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
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mutator:", err)
		os.Exit(1)
	}
}

func run() error {
	f := app.NewFlags("mutator")
	cfg := app.CommonFlags(f, "127.0.0.1:9091", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	_ = f.Parse(os.Args[1:])
	log := app.Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	nc, js, err := app.Connect(cfg.NATSURL, "mutator", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := app.EnsureStreams(ctx, js, cfg.Topology, log); err != nil {
		return err
	}
	wire, err := app.OpenWire(ctx, js, cfg.Topology, log)
	if err != nil {
		return err
	}
	e := api.NewServer(log)
	cmds := app.Commands(js, cfg.Topology, wire)
	api.RegisterCommands(e, cmds)
	api.RegisterBatch(e, cmds)
	api.RegisterReady(e, map[string]api.Check{"nats": app.NATSConnected(nc), "streams": app.StreamsPresent(js)})
	return app.RunAll(ctx, nc, log, func(ctx context.Context) error { return app.Serve(ctx, e, cfg.HTTPAddr, log) })
}
