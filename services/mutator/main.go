// Command mutator serves the command API against an external NATS:
// POST /inventory/adjustment, /inventory/reservation and /inventory/batch.
package main

import (
	"context"
	"log/slog"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
)

func main() {
	f := app.NewFlags("mutator")
	cfg := app.CommonFlags(f, "127.0.0.1:9091", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	app.Main(f, func(ctx context.Context, log *slog.Logger) error {
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
		return app.RunAll(ctx, nc, log, func(ctx context.Context) error { return app.Serve(ctx, e, cfg.HTTPAddr, *cfg.HTTP, log) })
	})
}
